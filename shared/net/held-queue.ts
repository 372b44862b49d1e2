import { Fifo } from '../fifo.js';
import { formatLine } from '../protocol/line.js';
import type { Message } from '../protocol/message.js';

/**
 * Messages the permanent client holds while it cannot send (not connected, paused, the link
 * full, the rate limit waiting), in order, bounded in bytes (issue #3: eventdispatcher caches
 * without bound). A refused message is not kept: the caller decides what to do with it.
 */

export interface HeldMessage {
  readonly msg: Message;
  /** Its size on the wire: line with LF, plus body. */
  readonly bytes: number;
}

/** Default bound on held messages: 1 MiB. */
export const DEFAULT_MAX_QUEUE_BYTES = 1024 * 1024;

/**
 * The bytes a message takes on a stream. Formatting checks the message too, so one that could
 * never be sent throws here (LW_ERR_BAD_PARAM), at `send`, rather than later in a flush.
 */
export function wireBytes(msg: Message): number {
  return Buffer.byteLength(formatLine(msg), 'utf8') + (msg.body?.length ?? 0);
}

export class HeldQueue {
  readonly maxBytes: number;
  readonly #items = new Fifo<HeldMessage>();
  #bytes = 0;

  constructor(maxBytes: number = DEFAULT_MAX_QUEUE_BYTES) {
    this.maxBytes = maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get length(): number {
    return this.#items.length;
  }

  /**
   * Appends when it fits and returns true; false when the bound would be passed. One message
   * larger than the bound is still taken into an empty queue, or it could never be sent.
   */
  offer(item: HeldMessage): boolean {
    if (this.#bytes > 0 && this.#bytes + item.bytes > this.maxBytes) return false;
    this.#items.push(item);
    this.#bytes += item.bytes;
    return true;
  }

  peek(): HeldMessage | undefined {
    return this.#items.peek();
  }

  shift(): HeldMessage | undefined {
    const item = this.#items.shift();
    if (item !== undefined) this.#bytes -= item.bytes;
    return item;
  }

  /** Forgets every held message (on close). */
  clear(): void {
    this.#items.clear();
    this.#bytes = 0;
  }
}
