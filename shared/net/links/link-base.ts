import { EventEmitter } from 'node:events';
import type { PeerInfo } from '../../protocol/peer.js';
import type { Framing, Link, LinkEvents } from '../link.js';

/**
 * What every link shares: typed events, the closed flag and a 'close' emitted exactly once.
 * Reading starts when the first 'data' listener arrives, so bytes that come in between
 * connectLink() resolving and the messenger subscribing wait in the kernel instead of being
 * emitted to nobody (a TLS or WebSocket handshake can carry the peer's first bytes).
 */
export abstract class LinkBase implements Link {
  abstract readonly framing: Framing;
  readonly peer: PeerInfo;
  readonly #events = new EventEmitter();
  /** close() or destroy() was called, or the transport went away. */
  #closed = false;
  #closeEmitted = false;
  #reading = false;
  #held = false;

  constructor(peer: PeerInfo) {
    this.peer = peer;
  }

  get closed(): boolean {
    return this.#closed;
  }

  abstract get pendingBytes(): number;
  abstract write(parts: readonly Buffer[]): boolean;
  abstract close(): void;
  abstract destroy(error?: Error): void;

  /** Starts the flow of 'data' events; called once, when the first 'data' listener is added. */
  protected abstract startReading(): void;

  /** Turns the transport's reading off and on again (after startReading). */
  protected setFlowing(_on: boolean): void {}

  pauseReading(): void {
    this.#held = true;
    if (this.#reading) this.setFlowing(false);
  }

  resumeReading(): void {
    this.#held = false;
    if (this.#reading) this.setFlowing(true);
  }

  on<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this {
    this.#events.on(event, listener);
    if (event === 'data') this.#startOnce();
    return this;
  }

  once<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this {
    this.#events.once(event, listener);
    if (event === 'data') this.#startOnce();
    return this;
  }

  off<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this {
    this.#events.off(event, listener);
    return this;
  }

  /** Marks the link closed for writers; the 'close' event comes later, from the transport. */
  protected markClosed(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    return true;
  }

  protected emitData(chunk: Buffer): void {
    this.#events.emit('data', chunk);
  }

  protected emitDrain(): void {
    if (!this.#closed) this.#events.emit('drain');
  }

  /** The transport is gone: emits 'close' once, with the first error seen. */
  protected emitClose(error?: Error): void {
    this.#closed = true;
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.#events.emit('close', error);
  }

  #startOnce(): void {
    if (this.#reading || this.#closeEmitted) return;
    this.#reading = true;
    this.startReading();
    if (this.#held) this.setFlowing(false);
  }
}
