import { EventEmitter } from 'node:events';
import { debuglog } from 'node:util';
import { LogwireError } from '../errors.js';
import type { Address } from '../net/address.js';
import type { Messenger } from '../net/messenger.js';
import { type ClientStatus, PermanentClient, type PermanentClientOptions } from '../net/permanent-client.js';
import { RateLimit, type RateLimitOptions } from '../net/rate-limit.js';
import { parseInteger } from '../protocol/accessors.js';
import { DEFAULT_MAX_BODY } from '../protocol/limits.js';
import { type Message, message } from '../protocol/message.js';
import { type Batch, batch, lastSeq } from './batch.js';
import type { BatchStore } from './batch-store.js';
import { recut } from './batcher.js';
import type { Fallback } from './fallback.js';
import type { RecordQueue } from './record-queue.js';
import { Window } from './window.js';

/**
 * The client side of a session (PROTOCOL.md §3–4) over a PermanentClient:
 *
 * ```
 *   record queue ──commit: number──▶ store (memory | spool) ──▶ window ──EVENTS──▶ collector
 *   (unnumbered,                      reserve + append            acked|sent|waiting      │
 *    drops happen here)                                  ◀── store.ack(M) ◀── ACK seq=M ◀──┘
 * ```
 *
 * Handshake (the client's hook, before it reports 'connected'): REGISTER, then READY last=L;
 * max_body=B → forget up to L, resend whole every batch ending above L, then new batches
 * pipelined within the window. PAUSE holds (nothing is dropped for it), UNPAUSE goes on, and a
 * pause ends with its session. `sequence_behind` takes a fresh source id and registers again;
 * any other refusal backs off and is counted. No ACK progress for `ackTimeout` while batches are
 * in flight drops the link and reconnects.
 *
 * Numbering happens at commit. Without a spool a batch is committed only while a session is up,
 * not paused and the window has room, so everything not in flight stays in the record queue
 * under its overflow policy. With a spool, batches are committed (written to disk) at once,
 * whatever the connection, up to the spool's bound.
 *
 * EVENTS go straight to the session's messenger, never through the client's held queue: a held
 * batch would outlive its link and reach the next session before the resends, as a gap.
 */

const debug = debuglog('logwire');

/** Counters the sender keeps, in records. */
export interface SenderCounters {
  /** Put on the wire, resends included. */
  sent: number;
  /** Acknowledged by a collector (READY last or ACK). */
  acknowledged: number;
  /** Dropped by the sender: alone over the collector's max_body. */
  dropped: number;
  /** Written to the spool. */
  spooled: number;
  /** REGISTER refusals (UNAUTHORIZED, INVALID). */
  refused: number;
  /** Links dropped for want of acknowledgements. */
  ackTimeouts: number;
}

export interface SenderOptions {
  readonly addresses: readonly Address[];
  readonly store: BatchStore;
  /** True when the store is durable (a spool): commit to it at once, whatever the connection. */
  readonly durable: boolean;
  readonly queue: RecordQueue;
  readonly source: string;
  /** A fresh source id after `sequence_behind` (the spool keeps it; else a new random id). */
  readonly renewSource: () => Promise<string>;
  readonly host: string;
  readonly token?: string;
  readonly pid?: number;
  /** Bound on unacknowledged bytes in flight. */
  readonly window: number;
  /** ms without ACK progress while batches are in flight; 0: never. */
  readonly ackTimeout: number;
  /** ms to wait for READY after REGISTER. Default 10000. */
  readonly registerTimeout?: number;
  readonly rateLimit?: RateLimitOptions;
  readonly fallback: Fallback;
  /** Passed to the PermanentClient (tls, backoff, timeouts, heartbeat, clock, connect). */
  readonly client?: Omit<PermanentClientOptions, 'addresses' | 'handshake' | 'rateLimit'>;
}

export interface SenderEvents {
  /** Something moved: records acknowledged, spooled, dropped or committed. */
  progress: [];
  status: [status: ClientStatus];
}

const TIMER_ACK = 'ack-timeout';
const TIMER_REGISTER = 'register';
const TIMER_RATE = 'sender-rate';
const DEFAULT_REGISTER_TIMEOUT = 10_000;

interface PendingRegister {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class Sender extends EventEmitter<SenderEvents> {
  readonly counters: SenderCounters = {
    sent: 0,
    acknowledged: 0,
    dropped: 0,
    spooled: 0,
    refused: 0,
    ackTimeouts: 0,
  };
  readonly #options: SenderOptions;
  readonly #store: BatchStore;
  readonly #queue: RecordQueue;
  readonly #window: Window;
  #client: PermanentClient | undefined;
  #rate: RateLimit | undefined;
  #source: string;
  #service: string | undefined;
  /** A session is up: READY came and the client reported 'connected'. */
  #ready = false;
  #paused = false;
  #messenger: Messenger | undefined;
  #linkFull = false;
  #maxBody = DEFAULT_MAX_BODY;
  /** Last record sent in this session: an ACK above it is clamped to it. */
  #sentTop = 0;
  #register: PendingRegister | undefined;
  #renewing: Promise<unknown> = Promise.resolve();
  /** Records and bytes numbered whose append has not resolved. */
  #appending = 0;
  #appendingBytes = 0;
  /** Batches numbered and then found over max_body: seq → count, counted as dropped once. */
  readonly #skipped = new Map<number, number>();
  #spoolBroken = false;
  #stopped = false;
  #lastRefusal: string | undefined;

  constructor(options: SenderOptions) {
    super();
    this.#options = options;
    this.#store = options.store;
    this.#queue = options.queue;
    this.#source = options.source;
    this.#window = new Window(options.window);
    // A spool left by an earlier run: its batches are numbered and held, ready to resend.
    for (const held of this.#store.unacked()) this.#window.push(held);
  }

  /** The source id in use. */
  get source(): string {
    return this.#source;
  }

  /** True while a session is up and not paused. */
  get sending(): boolean {
    return this.#ready && !this.#paused;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get connected(): boolean {
    return this.#ready;
  }

  get reconnects(): number {
    return this.#client?.reconnects ?? 0;
  }

  /** Records numbered and not yet acknowledged. */
  get unacknowledged(): number {
    return this.#window.records + this.#appending;
  }

  /** Records numbered and not yet held by the store (for a spool: not yet on disk). */
  get appending(): number {
    return this.#appending;
  }

  /** The last refusal of REGISTER, for the close report. */
  get lastRefusal(): string | undefined {
    return this.#lastRefusal;
  }

  /** The collector's body limit as the last READY gave it. */
  get maxBody(): number {
    return this.#maxBody;
  }

  /** Numbered batches not acknowledged, oldest first (at close: report or fallback). */
  unacked(): Batch[] {
    return this.#window.toArray();
  }

  /** Starts the sessions once the service name is known (REGISTER waits for the first record). */
  start(service: string): void {
    if (this.#client !== undefined || this.#stopped) return;
    this.#service = service;
    const clock = this.#options.client?.clock;
    if (this.#options.rateLimit !== undefined) this.#rate = new RateLimit(this.#options.rateLimit, clock);
    const client = new PermanentClient({
      ...this.#options.client,
      addresses: this.#options.addresses,
      handshake: (messenger, signal) => this.#handshake(messenger, signal),
    });
    this.#client = client;
    client.on('message', (msg) => this.#onMessage(msg));
    client.on('status', (status) => this.#onStatus(status));
    this.wake();
  }

  /** New batches in the record queue: commit and send what may go. */
  wake(): void {
    this.#commit();
    this.#pump();
  }

  /**
   * Stops for good: closes the client (the link is flushed, then closed) and the store. What is
   * unacknowledged stays readable through `unacked()`; a spool keeps it on disk.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#lose();
    const client = this.#client;
    if (client !== undefined) await client.close();
    await this.#store
      .close()
      .catch((error: unknown) => debug('closing the store: %s', (error as Error).message));
  }

  // ── committing ───────────────────────────────────────────────────────────

  /** Numbers batches from the record queue while the store and the window take them. */
  #commit(): void {
    for (let pending = this.#queue.peek(); pending !== undefined; pending = this.#queue.peek()) {
      const size = pending.body.length;
      if (size > this.#maxBody || size > this.#store.maxBytes) {
        this.#queue.shift();
        this.#recut(pending.body);
        continue;
      }
      if (!this.#mayCommit(size)) return;
      this.#queue.shift();
      const numbered = batch(this.#store.reserve(pending.count), pending.count, pending.body);
      this.#appending += numbered.count;
      this.#appendingBytes += size;
      this.#append(numbered);
    }
  }

  #mayCommit(size: number): boolean {
    if (this.#stopped) return false;
    const store = this.#store;
    if (this.#options.durable && !this.#spoolBroken) return store.bytes + size <= store.maxBytes;
    if (!this.sending) return false;
    const held = this.#window.bytes + this.#appendingBytes;
    return held === 0 || held + size <= this.#options.window;
  }

  /** An unnumbered body over a limit: cut it finer (allowed before numbering), drop lone giants. */
  #recut(body: Buffer): void {
    const limit = Math.min(this.#maxBody, this.#store.maxBytes);
    const { batches, oversize } = recut(body, limit);
    for (const record of oversize) this.#dropRecords(record, 1);
    for (let i = batches.length - 1; i >= 0; i--) this.#queue.unshift(batches[i]!);
  }

  #append(numbered: Batch): void {
    this.#store.append(numbered).then(
      () => {
        this.#appended(numbered);
        if (this.#options.durable && !this.#spoolBroken) this.counters.spooled += numbered.count;
        this.#afterChange();
      },
      (error: unknown) => {
        this.#appended(numbered);
        if (!this.#stopped) this.#onAppendError(numbered, error);
        this.#afterChange();
      },
    );
  }

  #appended(numbered: Batch): void {
    this.#appending -= numbered.count;
    this.#appendingBytes -= numbered.body.length;
    // Kept in memory even when the spool failed: it is numbered, so it must still be sent.
    if (!this.#stopped) this.#window.push(numbered);
  }

  #onAppendError(numbered: Batch, error: unknown): void {
    if (!this.#spoolBroken) {
      this.#spoolBroken = true;
      const reason = error instanceof Error ? error.message : String(error);
      process.stderr.write(`logwire: the spool failed (${reason}); going on in memory only\n`);
    }
    debug('append seq=%d failed: %s', numbered.seq, (error as Error).message);
  }

  // ── sending ──────────────────────────────────────────────────────────────

  #pump(): void {
    const messenger = this.#messenger;
    if (!this.sending || this.#linkFull || messenger === undefined || this.#stopped) return;
    for (let next = this.#window.next(); next !== undefined; next = this.#window.next()) {
      if (next.body.length > this.#maxBody) {
        this.#skip(next);
        continue;
      }
      const events = message('EVENTS', { seq: next.seq, count: next.count }, next.body);
      if (this.#rate !== undefined && !this.#takeTokens(events)) return;
      const room = messenger.send(events);
      this.#window.markSent();
      this.#sentTop = lastSeq(next);
      this.counters.sent += next.count;
      this.#armAckTimer(false);
      if (!room) {
        this.#linkFull = true;
        return;
      }
    }
  }

  /** Waits on a timer when the rate limit says so; true when `events` may go now. */
  #takeTokens(events: Message): boolean {
    const rate = this.#rate!;
    const bytes = events.body!.length + 64;
    const delay = rate.delayFor(bytes);
    if (delay > 0) {
      this.#client?.timers.set(TIMER_RATE, delay, () => this.#pump());
      return false;
    }
    rate.take(bytes);
    return true;
  }

  /**
   * A numbered batch over the collector's max_body: it may not be sent (§4) nor re-cut (§3),
   * so its records are dropped (counted, to fallback) and the collector will count a gap.
   */
  #skip(numbered: Batch): void {
    this.#window.markSent();
    if (!this.#skipped.has(numbered.seq)) {
      this.#skipped.set(numbered.seq, numbered.count);
      this.#dropRecords(numbered.body, numbered.count);
    }
    this.#settleSkipped();
  }

  /** Skipped batches at the head of the window are acknowledged locally: nothing else will. */
  #settleSkipped(): void {
    for (let head = this.#window.first; head !== undefined; head = this.#window.first) {
      if (this.#window.inFlight === 0 || !this.#skipped.has(head.seq)) return;
      this.#acknowledge(lastSeq(head));
    }
  }

  #dropRecords(body: Buffer, count: number): void {
    this.counters.dropped += count;
    this.#options.fallback.write(body);
  }

  // ── acknowledgements ─────────────────────────────────────────────────────

  #onAck(seq: number): void {
    const last = Math.min(seq, this.#sentTop);
    if (this.#acknowledge(last) > 0) this.#armAckTimer(true);
    this.#settleSkipped();
    this.#afterChange();
  }

  /** Forgets up to `last` in the window and the store; returns the records acknowledged. */
  #acknowledge(last: number): number {
    const records = this.#window.ack(last);
    if (records === 0) return 0;
    let skipped = 0;
    for (const [seq, count] of this.#skipped) {
      if (seq + count - 1 > last) continue;
      skipped += count;
      this.#skipped.delete(seq);
    }
    this.counters.acknowledged += records - skipped;
    const done = this.#store.ack(last);
    if (done instanceof Promise)
      done.catch((error: unknown) => debug('store ack: %s', (error as Error).message));
    return records;
  }

  /** Starts the ack timer when batches are in flight; `progress` restarts it. */
  #armAckTimer(progress: boolean): void {
    const timers = this.#client?.timers;
    if (timers === undefined || this.#options.ackTimeout === 0) return;
    if (this.#window.inFlight === 0) {
      timers.clear(TIMER_ACK);
      return;
    }
    if (progress || !timers.has(TIMER_ACK))
      timers.set(TIMER_ACK, this.#options.ackTimeout, () => this.#onAckTimeout());
  }

  #onAckTimeout(): void {
    const messenger = this.#messenger;
    if (messenger === undefined || this.#window.inFlight === 0) return;
    this.counters.ackTimeouts += 1;
    messenger.destroy(
      new LogwireError(
        'LW_ERR_ACK_TIMEOUT',
        `${this.#window.inFlight} batches in flight and no ACK for ${this.#options.ackTimeout} ms (ackTimeout); reconnecting`,
      ),
    );
  }

  // ── the session ──────────────────────────────────────────────────────────

  async #handshake(messenger: Messenger, signal: AbortSignal): Promise<void> {
    await this.#renewing;
    signal.throwIfAborted();
    this.#paused = false;
    const timers = this.#client!.timers;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#register = { resolve, reject };
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        const timeout = this.#options.registerTimeout ?? DEFAULT_REGISTER_TIMEOUT;
        timers.set(TIMER_REGISTER, timeout, () =>
          reject(new LogwireError('LW_ERR_CONNECT_TIMEOUT', `no READY within ${timeout} ms after REGISTER`)),
        );
        messenger.send(
          message('REGISTER', {
            version: 1,
            source: this.#source,
            service: this.#service,
            host: this.#options.host,
            next: this.#store.nextSeq,
            first: this.#store.firstSeq,
            pid: this.#options.pid,
            token: this.#options.token,
          }),
        );
      });
    } finally {
      this.#register = undefined;
      timers.clear(TIMER_REGISTER);
    }
  }

  #onMessage(msg: Message): void {
    switch (msg.command) {
      case 'ACK': {
        const seq = parseInteger(msg.params.seq ?? '');
        if (seq !== undefined && this.#ready) this.#onAck(seq);
        return;
      }
      case 'READY':
        this.#onReady(msg);
        return;
      case 'PAUSE':
        this.#paused = true;
        this.#client?.pause();
        return;
      case 'UNPAUSE':
        this.#paused = false;
        this.#client?.resume();
        this.wake();
        return;
      case 'UNAUTHORIZED':
      case 'INVALID':
        this.#onRefusal(msg);
        return;
      default:
        debug('ignored %s from the collector', msg.command);
    }
  }

  #onReady(msg: Message): void {
    const register = this.#register;
    if (register === undefined) return;
    const last = parseInteger(msg.params.last ?? '');
    const maxBody = parseInteger(msg.params.max_body ?? '');
    if (last === undefined) {
      register.reject(new LogwireError('LW_ERR_BAD_PARAM', 'READY without a valid last'));
      return;
    }
    if (last >= this.#store.nextSeq && last > 0) {
      // The collector holds more of this source than it ever numbered: never resend into that.
      this.#renew('READY last is at or above next');
      register.reject(
        new LogwireError('LW_ERR_REFUSED', 'READY last ≥ next: registering under a fresh source id'),
      );
      return;
    }
    if (maxBody !== undefined && maxBody > 0) this.#maxBody = maxBody;
    this.#window.rewind();
    this.#acknowledge(last);
    this.#sentTop = last;
    register.resolve();
  }

  #onRefusal(msg: Message): void {
    const register = this.#register;
    if (msg.command === 'INVALID' && msg.params.command !== 'REGISTER') {
      debug('collector: INVALID command=%s reason=%s', msg.params.command, msg.params.reason);
      return;
    }
    if (register === undefined) return;
    const reason = msg.params.reason ?? 'none given';
    if (msg.command === 'INVALID' && reason === 'sequence_behind') {
      this.#renew(reason);
    } else {
      this.counters.refused += 1;
      this.#lastRefusal = `${msg.command} reason=${reason}`;
    }
    register.reject(
      new LogwireError(
        'LW_ERR_REFUSED',
        `the collector answered REGISTER with ${msg.command} reason=${reason}`,
      ),
    );
  }

  /** Takes a fresh source id; the next handshake waits for it. */
  #renew(why: string): void {
    debug('source %s: %s; taking a fresh source id', this.#source, why);
    this.#renewing = this.#options.renewSource().then(
      (source) => {
        this.#source = source;
      },
      (error: unknown) => debug('renewing the source id failed: %s', (error as Error).message),
    );
  }

  #onStatus(status: ClientStatus): void {
    if (status.state === 'connected') {
      if (!this.#ready) {
        this.#ready = true;
        this.#linkFull = false;
        const messenger = status.messenger;
        this.#messenger = messenger;
        messenger.on('drain', () => {
          if (messenger !== this.#messenger) return;
          this.#linkFull = false;
          this.#pump();
        });
      }
      this.wake();
    } else if (status.state === 'disconnected' || status.state === 'closed') {
      this.#lose();
    }
    this.emit('status', status);
  }

  /** The session is over: whatever was in flight waits to be resent whole in the next one. */
  #lose(): void {
    this.#ready = false;
    this.#paused = false;
    this.#messenger = undefined;
    this.#linkFull = false;
    this.#window.rewind();
    this.#client?.timers.clear(TIMER_ACK);
    this.#client?.timers.clear(TIMER_RATE);
  }

  #afterChange(): void {
    this.#commit();
    this.#pump();
    this.emit('progress');
  }
}
