import { EventEmitter } from 'node:events';
import type { Link, LinkEvents } from '../../shared/net/link.js';
import { encodeMessageToBuffer } from '../../shared/protocol/encode.js';
import type { Message } from '../../shared/protocol/message.js';
import type { PeerInfo } from '../../shared/protocol/peer.js';

/**
 * An in-memory Link for tests that need no socket (a fake `connect`): it records writes, and
 * the test plays the peer with `deliver` and `peerClose`. 'close' comes on a later microtask,
 * as a transport's would.
 */
export class FakeLink implements Link {
  readonly framing = 'stream';
  readonly peer: PeerInfo = Object.freeze({ transport: 'tcp', remote: 'fake:1', local: true, secure: false });
  readonly writes: Buffer[] = [];
  /** write() returns this; flip it and call `drain()` to play a full transport. */
  room = true;
  closedHow: 'close' | 'destroy' | undefined;
  readonly #events = new EventEmitter();
  #closed = false;
  #closeEmitted = false;

  get closed(): boolean {
    return this.#closed;
  }

  get pendingBytes(): number {
    return 0;
  }

  /** What was written, as text. */
  get text(): string {
    return Buffer.concat(this.writes).toString('utf8');
  }

  write(parts: readonly Buffer[]): boolean {
    if (this.#closed) return false;
    this.writes.push(Buffer.concat(parts));
    return this.room;
  }

  /** Whether the owner asked to stop reading (pauseReading). */
  readingPaused = false;

  pauseReading(): void {
    this.readingPaused = true;
  }

  resumeReading(): void {
    this.readingPaused = false;
  }

  close(): void {
    this.#end('close');
  }

  destroy(error?: Error): void {
    this.#end('destroy', error);
  }

  deliver(msg: Message): void {
    this.#events.emit('data', encodeMessageToBuffer(msg));
  }

  drain(): void {
    this.room = true;
    this.#events.emit('drain');
  }

  /** The peer went away. */
  peerClose(error?: Error): void {
    this.#end(undefined, error);
  }

  on<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this {
    this.#events.on(event, listener);
    return this;
  }

  off<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this {
    this.#events.off(event, listener);
    return this;
  }

  once<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this {
    this.#events.once(event, listener);
    return this;
  }

  #end(how: 'close' | 'destroy' | undefined, error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.closedHow = how;
    queueMicrotask(() => {
      if (this.#closeEmitted) return;
      this.#closeEmitted = true;
      this.#events.emit('close', error);
    });
  }
}
