import type { Socket } from 'node:net';
import type { PeerInfo } from '../../protocol/peer.js';
import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import { LinkBase } from './link-base.js';

/** How long close() waits for a flush that makes no progress before it destroys the socket. */
export const DEFAULT_CLOSE_GRACE = 2000;
/**
 * Bytes queued in the socket before `write` says "no room". The socket's own mark (16 KiB) is
 * less than one batch: a sender would then put one batch per 'drain' on the wire, one writev
 * each; with this, a pump sends several and they leave as one writev.
 */
export const WRITE_HIGH_WATER = 1024 * 1024;

export interface SocketLinkOptions {
  readonly closeGrace?: number;
  readonly clock?: Clock;
}

/**
 * A connected net.Socket or tls.TLSSocket (TCP, TLS, Unix stream, NDJSON) as a Link with
 * 'stream' framing. Socket errors never escape as exceptions: they end the link, and 'close'
 * carries the first one.
 */
export class SocketLink extends LinkBase {
  readonly framing = 'stream';
  readonly #socket: Socket;
  readonly #closeGrace: number;
  readonly #clock: Clock;
  #error: Error | undefined;
  #graceTimer: TimerHandle | undefined;
  /** Corked until the end of this tick: later writes of the tick join one writev. */
  #batching = false;

  constructor(socket: Socket, peer: PeerInfo, opts: SocketLinkOptions = {}) {
    super(peer);
    this.#socket = socket;
    this.#closeGrace = opts.closeGrace ?? DEFAULT_CLOSE_GRACE;
    this.#clock = opts.clock ?? systemClock;
    // Paused until someone listens for 'data' (LinkBase): the kernel holds the bytes meanwhile.
    socket.pause();
    socket.on('error', (err) => {
      this.#error ??= err;
      socket.destroy();
    });
    socket.on('drain', () => this.emitDrain());
    socket.once('close', () => this.#onClose());
    if (socket.destroyed) queueMicrotask(() => this.#onClose());
  }

  get pendingBytes(): number {
    return this.#socket.writableLength;
  }

  /**
   * One syscall for line + body: the parts are corked and go out as one writev. The first write
   * of a tick goes out at once; the later ones stay corked until the tick ends and go out as
   * one writev, so a burst of small messages costs one syscall, not one each.
   */
  write(parts: readonly Buffer[]): boolean {
    if (this.closed || !this.#socket.writable) return false;
    const socket = this.#socket;
    const first = !this.#batching;
    if (first) socket.cork();
    // The socket's return value is ignored: it says "full" past 16 KiB (see WRITE_HIGH_WATER).
    // It emits 'drain' once it is empty, whenever a write went past its own mark.
    for (const part of parts) {
      if (part.length > 0) socket.write(part);
    }
    if (first) {
      socket.uncork();
      this.#batching = true;
      socket.cork();
      process.nextTick(this.#endBatch);
    }
    return socket.writableLength < WRITE_HIGH_WATER;
  }

  /** end() and destroy() uncork or drop the batch themselves; this uncork is then a no-op. */
  readonly #endBatch = (): void => {
    this.#batching = false;
    this.#socket.uncork();
  };

  /** Ends after the flush; if the flush stalls for closeGrace ms, destroys. */
  close(): void {
    if (!this.markClosed()) return;
    this.#socket.end();
    this.#armGrace(this.pendingBytes);
  }

  destroy(error?: Error): void {
    this.markClosed();
    if (error !== undefined) this.#error ??= error;
    this.#socket.destroy();
  }

  protected startReading(): void {
    this.#socket.on('data', (chunk: Buffer) => this.emitData(chunk));
    this.#socket.resume();
  }

  protected override setFlowing(on: boolean): void {
    if (on) this.#socket.resume();
    else this.#socket.pause();
  }

  #armGrace(pendingBefore: number): void {
    this.#graceTimer = this.#clock.setTimeout(() => {
      this.#graceTimer = undefined;
      if (this.#socket.destroyed) return;
      const pending = this.pendingBytes;
      // Still flushing at a pace: give it another grace; stalled or only the peer's FIN missing: cut.
      if (pending > 0 && pending < pendingBefore) this.#armGrace(pending);
      else this.#socket.destroy();
    }, this.#closeGrace);
  }

  #onClose(): void {
    if (this.#graceTimer !== undefined) this.#clock.clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.emitClose(this.#error);
  }
}
