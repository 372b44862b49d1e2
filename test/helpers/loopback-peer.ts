import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { peerOf } from '../../shared/net/links/peer-of.js';
import { SocketLink } from '../../shared/net/links/socket-link.js';
import { Messenger } from '../../shared/net/messenger.js';
import { type Address, parseAddress } from '../../shared/protocol/address.js';
import type { Message } from '../../shared/protocol/message.js';

/**
 * The far end for client tests: a real TCP server on 127.0.0.1 whose connections are
 * Messengers over SocketLinks. It records what arrives and answers only through `respond`
 * (by default nothing, so ALIVE goes unanswered: a silent peer).
 */

export interface PeerConnection {
  readonly messenger: Messenger;
  readonly messages: Message[];
  closed: boolean;
}

interface LoopbackPeerEvents {
  connection: [conn: PeerConnection];
  message: [msg: Message, conn: PeerConnection];
  disconnect: [conn: PeerConnection];
}

export type Responder = (msg: Message, conn: PeerConnection) => void;

export class LoopbackPeer extends EventEmitter<LoopbackPeerEvents> {
  readonly messages: Message[] = [];
  readonly connections: PeerConnection[] = [];
  respond: Responder | undefined;
  port = 0;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  /** Listens on `port` (0: any free one). */
  static async start(port = 0, respond?: Responder): Promise<LoopbackPeer> {
    const peer = new LoopbackPeer();
    peer.respond = respond;
    await peer.listen(port);
    return peer;
  }

  get address(): Address {
    return parseAddress(`tcp/127.0.0.1:${this.port}`);
  }

  /** Listens again, on the same port unless told otherwise (a restarted peer). */
  async listen(port = this.port): Promise<void> {
    const server = createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address();
    if (bound === null || typeof bound === 'string') throw new Error('no TCP port');
    this.port = bound.port;
    this.#server = server;
  }

  /** Stops listening and cuts every connection (a crashed peer). */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once `count` messages have arrived in all (across connections). */
  waitForMessages(count: number, timeout = 5000): Promise<Message[]> {
    return waitUntil(
      this,
      'message',
      () => this.messages.length >= count,
      timeout,
      () => this.messages,
    );
  }

  /** Resolves once `count` connections have been accepted. */
  waitForConnections(count: number, timeout = 5000): Promise<PeerConnection> {
    return waitUntil(
      this,
      'connection',
      () => this.connections.length >= count,
      timeout,
      () => this.connections[count - 1]!,
    );
  }

  /** Resolves once the `n`th connection (1-based) has closed. */
  waitForDisconnect(n: number, timeout = 5000): Promise<void> {
    return waitUntil(
      this,
      'disconnect',
      () => this.connections[n - 1]?.closed === true,
      timeout,
      () => undefined,
    );
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    const messenger = new Messenger(new SocketLink(socket, peerOf(socket, 'tcp')));
    const conn: PeerConnection = { messenger, messages: [], closed: false };
    this.connections.push(conn);
    messenger.on('message', (msg) => {
      conn.messages.push(msg);
      this.messages.push(msg);
      this.respond?.(msg, conn);
      this.emit('message', msg, conn);
    });
    messenger.once('close', () => {
      conn.closed = true;
      this.emit('disconnect', conn);
    });
    this.emit('connection', conn);
  }
}

/** Frees a port by binding and closing it: a connection there is refused. */
export async function refusedAddress(): Promise<Address> {
  const peer = await LoopbackPeer.start();
  await peer.stop();
  return peer.address;
}

/** Resolves with `value()` once `done()` holds, checked now and on every `event`; rejects after `timeout`. */
export function waitUntil<T, E extends string>(
  emitter: { on(event: E, fn: () => void): unknown; off(event: E, fn: () => void): unknown },
  event: E,
  done: () => boolean,
  timeout: number,
  value: () => T,
): Promise<T> {
  return new Promise((resolve, reject) => {
    if (done()) {
      resolve(value());
      return;
    }
    const check = (): void => {
      if (!done()) return;
      clearTimeout(timer);
      emitter.off(event, check);
      resolve(value());
    };
    // A guard against a hang, not a sleep: the test fails with a message instead.
    const timer = setTimeout(() => {
      emitter.off(event, check);
      reject(new Error(`timed out after ${timeout} ms waiting on '${event}'`));
    }, timeout);
    emitter.on(event, check);
  });
}
