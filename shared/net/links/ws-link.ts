import type { WebSocket } from 'ws';
import type { PeerInfo } from '../../protocol/peer.js';
import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import { LinkBase } from './link-base.js';
import { DEFAULT_CLOSE_GRACE } from './socket-link.js';

/** The WebSocket subprotocol of PROTOCOL.md §8. */
export const WS_SUBPROTOCOL = 'logwire.v1';

/** write() returns false once this much is buffered (ws has no 'drain' of its own). */
export const WS_HIGH_WATER_MARK = 64 * 1024;

/** Close codes that mean a normal end: 1000 normal, 1001 going away, 1005 no code given. */
const CLEAN_CLOSE_CODES = new Set([1000, 1001, 1005]);

export interface WsLinkOptions {
  readonly closeGrace?: number;
  readonly clock?: Clock;
}

/**
 * An open `ws` WebSocket as a Link with 'message' framing: one protocol message per
 * WebSocket message (PROTOCOL.md §8). A text message from the peer arrives as its bytes.
 */
export class WsLink extends LinkBase {
  readonly framing = 'message';
  readonly #ws: WebSocket;
  readonly #closeGrace: number;
  readonly #clock: Clock;
  #error: Error | undefined;
  #needDrain = false;
  #graceTimer: TimerHandle | undefined;

  constructor(ws: WebSocket, peer: PeerInfo, opts: WsLinkOptions = {}) {
    super(peer);
    this.#ws = ws;
    this.#closeGrace = opts.closeGrace ?? DEFAULT_CLOSE_GRACE;
    this.#clock = opts.clock ?? systemClock;
    ws.binaryType = 'nodebuffer';
    ws.pause(); // until someone listens for 'data' (LinkBase)
    ws.on('error', (err) => {
      this.#error ??= err;
    });
    ws.once('close', (code, reason) => this.#onClose(code, reason));
    if (ws.readyState === ws.CLOSED) queueMicrotask(() => this.#onClose(1006, Buffer.alloc(0)));
  }

  get pendingBytes(): number {
    return this.#ws.bufferedAmount;
  }

  /** The parts go out as one binary WebSocket message; an empty message is never sent (issue #3). */
  write(parts: readonly Buffer[]): boolean {
    if (this.closed || this.#ws.readyState !== this.#ws.OPEN) return false;
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (data.length === 0) return !this.#needDrain;
    this.#ws.send(data, { binary: true, compress: false }, () => this.#onSent());
    if (this.#ws.bufferedAmount >= WS_HIGH_WATER_MARK) this.#needDrain = true;
    return !this.#needDrain;
  }

  /** Closing handshake (1000); if the peer does not finish it within closeGrace ms, terminates. */
  close(): void {
    if (!this.markClosed()) return;
    const ws = this.#ws;
    if (ws.readyState === ws.CLOSED) return;
    ws.close(1000);
    this.#graceTimer = this.#clock.setTimeout(() => {
      this.#graceTimer = undefined;
      ws.terminate();
    }, this.#closeGrace);
  }

  destroy(error?: Error): void {
    this.markClosed();
    if (error !== undefined) this.#error ??= error;
    this.#ws.terminate();
  }

  protected startReading(): void {
    this.#ws.on('message', (data) => this.emitData(toBuffer(data)));
    this.#ws.resume();
  }

  protected override setFlowing(on: boolean): void {
    if (on) this.#ws.resume();
    else this.#ws.pause();
  }

  #onSent(): void {
    if (this.#needDrain && this.#ws.bufferedAmount < WS_HIGH_WATER_MARK) {
      this.#needDrain = false;
      this.emitDrain();
    }
  }

  #onClose(code: number, reason: Buffer): void {
    if (this.#graceTimer !== undefined) this.#clock.clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    // A terminate() we asked for (destroy, grace expired) is not the peer's failure.
    if (this.#error === undefined && !this.closed && !CLEAN_CLOSE_CODES.has(code)) {
      const why = reason.length > 0 ? `: ${reason.toString('utf8')}` : '';
      this.#error = new Error(`WebSocket closed with code ${code}${why}`);
    }
    this.emitClose(this.#error);
  }
}

/** With binaryType 'nodebuffer' ws gives a Buffer; the other shapes are handled for safety. */
function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
