import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { peerOf } from '../../shared/net/links/peer-of.js';
import { SocketLink } from '../../shared/net/links/socket-link.js';
import { Messenger } from '../../shared/net/messenger.js';
import { decodeDatagram } from '../../shared/protocol/datagram.js';
import { type Message, message } from '../../shared/protocol/message.js';

/**
 * A minimal collector for the appender's tests, speaking PROTOCOL.md §4 with the real codec over
 * TCP or a Unix socket: REGISTER → READY last=<mark>, EVENTS written above the mark only and
 * acknowledged cumulatively, PAUSE/UNPAUSE on demand, refusals on demand, and a restart on the
 * same port with its marks kept (as a collector with a checkpoint). It records every number it
 * receives, retransmissions included. The real collector replaces it in the e2e tests.
 */

export interface WrittenRecord {
  readonly source: string;
  readonly seq: number;
  readonly line: string;
}

export interface FakeCollectorOptions {
  /** A Unix socket path instead of TCP on 127.0.0.1. */
  readonly path?: string;
  readonly maxBody?: number;
}

interface Session {
  readonly messenger: Messenger;
  source: string | undefined;
}

interface FakeCollectorEvents {
  register: [params: Record<string, string>];
  events: [source: string, seq: number, count: number];
  change: [];
}

export class FakeCollector extends EventEmitter<FakeCollectorEvents> {
  /** High-water mark per source. */
  readonly marks = new Map<string, number>();
  /** Records written (above the mark), in order. */
  readonly written: WrittenRecord[] = [];
  /** Every record number received, per source, retransmissions included. */
  readonly received = new Map<string, number[]>();
  /** REGISTER parameters, in order. */
  readonly registers: Record<string, string>[] = [];
  /** The largest EVENTS body received, in bytes. */
  largestBody = 0;
  /** Gaps seen: records numbered but never received before a higher one. */
  gaps = 0;
  /** Answer EVENTS with ACK (false: a peer that never acknowledges). */
  acking = true;
  /** Hold ACKs back: each waits in `heldAcks` until `releaseAcks()`. */
  holdingAcks = false;
  readonly heldAcks: (() => void)[] = [];
  /** Hold READY back: each REGISTER's answer waits in `heldReady` until `releaseReady()`. */
  holdingReady = false;
  readonly heldReady: (() => void)[] = [];
  /** Answer REGISTER with this instead of READY, e.g. { command: 'UNAUTHORIZED', reason: 'bad_token' }. */
  refuse: { command: 'UNAUTHORIZED' | 'INVALID'; reason: string } | undefined;
  /** Answer the next REGISTER with INVALID sequence_behind whatever the marks. */
  sequenceBehindOnce = false;
  maxBody: number;
  port = 0;
  readonly path: string | undefined;
  #paused = false;
  /** Reads nothing, answers nothing, closes nothing: a stopped process (SIGSTOP) or a black hole. */
  #frozen = false;
  #server: Server | undefined;
  readonly #sessions = new Set<Session>();
  readonly #sockets = new Set<Socket>();

  private constructor(options: FakeCollectorOptions) {
    super();
    this.path = options.path;
    this.maxBody = options.maxBody ?? 16 * 1024 * 1024;
  }

  static async start(options: FakeCollectorOptions = {}): Promise<FakeCollector> {
    const collector = new FakeCollector(options);
    await collector.listen();
    return collector;
  }

  /** The address for the appender's `address` option. */
  get address(): string {
    return this.path === undefined ? `tcp/127.0.0.1:${this.port}` : `unix/${this.path}`;
  }

  /** Connections open now, registered or not. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** Lines written for `source` (all sources when omitted), in order. */
  lines(source?: string): string[] {
    return this.written.filter((r) => source === undefined || r.source === source).map((r) => r.line);
  }

  async listen(): Promise<void> {
    const server = createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = (): void => {
        server.off('error', reject);
        resolve();
      };
      if (this.path === undefined) server.listen(this.port, '127.0.0.1', done);
      else server.listen(this.path, done);
    });
    const bound = server.address();
    if (bound !== null && typeof bound !== 'string') this.port = bound.port;
    this.#server = server;
  }

  /** Drops every connection and stops listening (marks are kept). */
  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    this.#sessions.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Killed and started again on the same port or path. */
  async restart(): Promise<void> {
    await this.stop();
    await this.listen();
  }

  /** Stops reading every connection, new ones included, without closing any (a half-open link). */
  freeze(): void {
    this.#frozen = true;
    for (const socket of this.#sockets) socket.pause();
  }

  /** PAUSE to every session, and right after READY for new ones. */
  pause(): void {
    this.#paused = true;
    for (const session of this.#sessions) session.messenger.send(message('PAUSE'));
  }

  /** Sends any message to every session (a collector that misbehaves, for tests). */
  broadcast(msg: Message): void {
    for (const session of this.#sessions) session.messenger.send(msg);
  }

  unpause(): void {
    this.#paused = false;
    for (const session of this.#sessions) session.messenger.send(message('UNPAUSE'));
  }

  /** Resolves when `done()` holds, checked after every change; rejects after `ms`. */
  waitFor(done: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
    return until(done, [this], what, ms, ['change']).catch(() => {
      throw new Error(`fake collector: timed out waiting for ${what} (${this.written.length} written)`);
    });
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    const link = new SocketLink(
      socket,
      peerOf(socket, this.path === undefined ? 'tcp' : 'unix', { path: this.path }),
    );
    const session: Session = { messenger: new Messenger(link), source: undefined };
    if (this.#frozen) socket.pause();
    this.#sessions.add(session);
    session.messenger.on('message', (msg) => this.#onMessage(session, msg));
    session.messenger.once('close', () => {
      this.#sessions.delete(session);
      this.emit('change');
    });
    this.emit('change');
  }

  #onMessage(session: Session, msg: Message): void {
    const reply = (m: Message): void => {
      session.messenger.send(m);
    };
    if (msg.command === 'ALIVE') {
      reply(message('ABSOLUTELY', { serial: msg.params.serial }));
    } else if (msg.command === 'REGISTER') {
      this.#onRegister(session, msg, reply);
    } else if (msg.command === 'EVENTS') {
      this.#onEvents(session, msg, reply);
    }
    this.emit('change');
  }

  #onRegister(session: Session, msg: Message, reply: (m: Message) => void): void {
    const params = { ...msg.params };
    this.registers.push(params);
    this.emit('register', params);
    const source = params.source ?? '';
    const next = Number(params.next);
    const mark = this.marks.get(source) ?? 0;
    if (this.refuse !== undefined) {
      reply(message(this.refuse.command, { command: 'REGISTER', reason: this.refuse.reason }));
      session.messenger.close();
      return;
    }
    if (this.sequenceBehindOnce || (mark > 0 && mark >= next)) {
      this.sequenceBehindOnce = false;
      reply(message('INVALID', { command: 'REGISTER', reason: 'sequence_behind' }));
      session.messenger.close();
      return;
    }
    const ready = (): void => {
      session.source = source;
      this.marks.set(source, mark);
      reply(message('READY', { version: 1, last: mark, max_body: this.maxBody }));
      if (this.#paused) reply(message('PAUSE'));
    };
    if (this.holdingReady) {
      this.heldReady.push(ready);
      this.emit('change');
    } else ready();
  }

  /** Answers every REGISTER held back, and holds no more. */
  releaseReady(): void {
    this.holdingReady = false;
    for (const ready of this.heldReady.splice(0)) ready();
  }

  #onEvents(session: Session, msg: Message, reply: (m: Message) => void): void {
    const source = session.source;
    if (source === undefined) {
      reply(message('INVALID', { command: 'EVENTS', reason: 'not_registered' }));
      session.messenger.close();
      return;
    }
    const seq = Number(msg.params.seq);
    const count = Number(msg.params.count);
    const body = msg.body ?? Buffer.alloc(0);
    this.largestBody = Math.max(this.largestBody, body.length);
    const lines = body.toString('utf8').split('\n');
    if (lines.pop() !== '' || lines.length !== count)
      throw new Error(`bad batch seq=${seq}: not ${count} lines`);
    const received = this.received.get(source) ?? [];
    this.received.set(source, received);
    let mark = this.marks.get(source) ?? 0;
    if (seq > mark + 1) this.gaps += seq - mark - 1;
    for (let i = 0; i < count; i++) {
      received.push(seq + i);
      if (seq + i <= mark) continue;
      this.written.push({ source, seq: seq + i, line: lines[i]! });
      mark = seq + i;
    }
    this.marks.set(source, mark);
    this.emit('events', source, seq, count);
    if (!this.acking) return;
    if (this.holdingAcks) this.heldAcks.push(() => reply(message('ACK', { seq: mark })));
    else reply(message('ACK', { seq: mark }));
  }

  /** Sends the held ACKs, and ACKs at once from now on. */
  releaseAcks(): void {
    this.holdingAcks = false;
    for (const ack of this.heldAcks.splice(0)) ack();
  }
}

/** A UDP collector: records every datagram (PROTOCOL.md §7) and never answers. */
export class FakeUdpCollector extends EventEmitter<{ change: [] }> {
  readonly datagrams: { size: number; msg: Message }[] = [];
  readonly lines: string[] = [];
  empty = 0;
  port = 0;
  readonly #socket: UdpSocket;

  private constructor() {
    super();
    this.#socket = createSocket('udp4');
    this.#socket.on('message', (packet) => {
      if (packet.length === 0) {
        this.empty += 1;
        return;
      }
      const msg = decodeDatagram(packet);
      this.datagrams.push({ size: packet.length, msg });
      const text = msg.body?.toString('utf8') ?? '';
      this.lines.push(...text.split('\n').slice(0, -1));
      this.emit('change');
    });
  }

  static async start(): Promise<FakeUdpCollector> {
    const collector = new FakeUdpCollector();
    await new Promise<void>((resolve) => collector.#socket.bind(0, '127.0.0.1', () => resolve()));
    collector.port = collector.#socket.address().port;
    return collector;
  }

  get address(): string {
    return `udp/127.0.0.1:${this.port}`;
  }

  waitFor(done: () => boolean, ms = 10_000): Promise<void> {
    return until(done, [this], 'records', ms, ['change']).catch(() => {
      throw new Error(`fake UDP collector: timed out (${this.lines.length} records)`);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

/** Anything with events to re-check a condition on. */
interface Watchable {
  on(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

/**
 * Resolves when `done()` holds, re-checked whenever one of `sources` emits one of `events`;
 * rejects after `ms` naming `what`. No sleeping: only events move it.
 */
export function until(
  done: () => boolean,
  sources: readonly Watchable[],
  what: string,
  ms = 10_000,
  events: readonly string[] = ['change', 'progress', 'status'],
): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!done()) return;
      finish();
      resolve();
    };
    const finish = (): void => {
      clearTimeout(timer);
      for (const source of sources) for (const event of events) source.off(event, check);
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    for (const source of sources) for (const event of events) source.on(event, check);
  });
}
