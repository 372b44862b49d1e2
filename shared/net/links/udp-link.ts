import type { Socket } from 'node:dgram';
import type { PeerInfo } from '../../protocol/peer.js';
import { LinkBase } from './link-base.js';

/** write() returns false while this many bytes wait in libuv's send queue. */
export const UDP_HIGH_WATER_MARK = 256 * 1024;

/**
 * The client side of UDP: a connected dgram socket as a Link with 'message' framing, one
 * protocol message per datagram (PROTOCOL.md §7). Nothing is ever owed in answer, and the
 * kernel delivers only the connected peer's datagrams. A failed send, or the collector's port
 * being closed (ECONNREFUSED from an ICMP answer), loses datagrams as UDP may: they are
 * counted (`droppedDatagrams`, `refused`), and the link stays open.
 */
export class UdpLink extends LinkBase {
  readonly framing = 'message';
  readonly #socket: Socket;
  #pending = 0;
  #needDrain = false;
  #error: Error | undefined;
  #socketClosed = false;
  /** Datagrams whose send failed (EMSGSIZE, ENOBUFS…). */
  droppedDatagrams = 0;
  /** ICMP "port unreachable" answers: nobody listened at the time; the datagrams were lost. */
  refused = 0;
  lastSendError: Error | undefined;

  constructor(socket: Socket, peer: PeerInfo) {
    super(peer);
    this.#socket = socket;
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // The kernel reports an ICMP "port unreachable" on a connected socket's next call.
      if (err.code === 'ECONNREFUSED') {
        this.refused += 1;
        this.lastSendError = err;
        return;
      }
      this.#error ??= err;
      this.#closeSocket();
    });
    socket.once('close', () => {
      this.#socketClosed = true;
      this.emitClose(this.#error);
    });
  }

  get pendingBytes(): number {
    return this.#pending;
  }

  /** One datagram; an empty one is never sent (PROTOCOL.md §7), the call just returns. */
  write(parts: readonly Buffer[]): boolean {
    if (this.closed) return false;
    let size = 0;
    for (const part of parts) size += part.length;
    if (size === 0) return !this.#needDrain;
    this.#pending += size;
    this.#socket.send(parts as Buffer[], (err) => this.#onSent(size, err));
    if (this.#pending >= UDP_HIGH_WATER_MARK) this.#needDrain = true;
    return !this.#needDrain;
  }

  /** Closes once the queued datagrams are handed to the kernel. */
  close(): void {
    if (!this.markClosed()) return;
    if (this.#pending === 0) this.#closeSocket();
  }

  destroy(error?: Error): void {
    this.markClosed();
    if (error !== undefined) this.#error ??= error;
    this.#closeSocket();
  }

  protected startReading(): void {
    this.#socket.on('message', (msg: Buffer) => {
      if (msg.length > 0) this.emitData(msg); // empty datagrams are ignored (PROTOCOL.md §7)
    });
  }

  #onSent(size: number, err: Error | null): void {
    this.#pending -= size;
    if (err) {
      this.droppedDatagrams += 1;
      this.lastSendError = err;
    }
    if (this.closed) {
      if (this.#pending === 0) this.#closeSocket();
      return;
    }
    if (this.#needDrain && this.#pending < UDP_HIGH_WATER_MARK / 2) {
      this.#needDrain = false;
      // Node completes UDP sends on nextTick: a 'drain' from here would let a writer send its
      // whole backlog without the event loop ever turning (the app that logs would stall).
      setImmediate(() => this.emitDrain());
    }
  }

  #closeSocket(): void {
    if (this.#socketClosed) return;
    this.#socketClosed = true;
    try {
      this.#socket.close();
    } catch {
      // Already closed by dgram itself: its 'close' has been or will be emitted.
    }
  }
}
