/**
 * A Link is one transport's connection, and nothing about messages: bytes (or whole frames)
 * in, buffers out. The messenger composes any link with the codec; each transport is one
 * file in links/ that produces Links (STYLE.md: nats.js keeps sockets out of its core).
 *
 *   framing 'stream':  data events carry arbitrary chunks; the frame decoder re-cuts them
 *   framing 'message': each data event is one whole protocol message (WebSocket, UDP)
 */

import type { PeerInfo } from '../protocol/peer.js';

export type Framing = 'stream' | 'message';

export interface LinkEvents {
  /** Bytes from the peer (a chunk, or one whole message for 'message' framing). */
  data: (chunk: Buffer) => void;
  /** The link can take more after write() returned false. */
  drain: () => void;
  /** The link is gone; `error` says why when it was not a clean close. Emitted once. */
  close: (error?: Error) => void;
}

export interface Link {
  readonly framing: Framing;
  readonly peer: PeerInfo;
  /**
   * Sends the parts in order as one unit (one frame for 'message' framing). Returns false when
   * the transport's buffer is full: wait for 'drain'. Writing to a closed link does nothing.
   */
  write(parts: readonly Buffer[]): boolean;
  /** Bytes queued in the transport and not yet handed to the kernel. */
  readonly pendingBytes: number;
  /**
   * Stops reading from the peer (the kernel's buffers fill and TCP pushes back); a receiver
   * whose consumer falls behind uses it to keep its memory bounded. Datagram links ignore it:
   * what the kernel cannot buffer is dropped there anyway.
   */
  pauseReading(): void;
  resumeReading(): void;
  /** Ends after what was written is flushed. Never throws; safe to call twice. */
  close(): void;
  /** Tears down at once. Never throws; safe to call twice. */
  destroy(error?: Error): void;
  readonly closed: boolean;
  on<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this;
  off<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this;
  once<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this;
}
