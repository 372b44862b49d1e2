/**
 * Batches cut but not yet numbered, waiting for the sender to commit them (PROTOCOL.md §3: a
 * record gets its number only once it is committed to delivery, so drops happen here, before
 * numbering, and nowhere after). Bounded by `maxBytes`; what happens when full is the overflow
 * policy (INTERFACES.md "The appender's options"):
 *
 *   drop-oldest  make room by dropping the oldest waiting batches (the default)
 *   drop-newest  drop the batch that does not fit
 *   block        take it anyway and report "full" until the sender makes room: the writer
 *                stops reading its input (the one opt-in that may block the app)
 *
 * While `holding()` says so (the appender: a session is taking records or opening, for a while;
 * and while closing), a drop policy waits: a full queue takes batches as 'block' does and the
 * writer holds its input; when the hold ends, `trim` applies the policy to what came in over the
 * bound (closing trims nothing: it delivers or reports the whole queue).
 *
 * Drops are whole batches and are counted in records. A batch larger than `maxBytes` alone is
 * dropped under every policy: it could never fit.
 */

import { Fifo } from '../fifo.js';

export const OVERFLOW_POLICIES = ['drop-oldest', 'drop-newest', 'block'] as const;
export type OverflowPolicy = (typeof OVERFLOW_POLICIES)[number];

/** An unnumbered batch: `count` whole LF-terminated records. */
export interface PendingBatch {
  readonly body: Buffer;
  readonly count: number;
}

export interface RecordQueueOptions {
  readonly maxBytes: number;
  readonly overflow: OverflowPolicy;
  /** Called for each dropped batch, so its records can go to the fallback. */
  readonly onDrop?: (batch: PendingBatch) => void;
  /** Called, inside `shift`, when a full queue (policy 'block', or holding) has room again. */
  readonly onRoom?: () => void;
  /** While true, a drop policy takes batches over the bound instead (see `trim`). */
  readonly holding?: () => boolean;
}

export class RecordQueue {
  readonly maxBytes: number;
  readonly overflow: OverflowPolicy;
  readonly #onDrop: ((batch: PendingBatch) => void) | undefined;
  readonly #onRoom: (() => void) | undefined;
  readonly #holding: () => boolean;
  readonly #items = new Fifo<PendingBatch>();
  #bytes = 0;
  #records = 0;
  #dropped = 0;
  #wasFull = false;

  constructor(options: RecordQueueOptions) {
    this.maxBytes = options.maxBytes;
    this.overflow = options.overflow;
    this.#onDrop = options.onDrop;
    this.#onRoom = options.onRoom;
    this.#holding = options.holding ?? (() => false);
  }

  /** Body bytes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Records waiting. */
  get records(): number {
    return this.#records;
  }

  /** Batches waiting. */
  get length(): number {
    return this.#items.length;
  }

  /** Records dropped by the overflow policy so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** True when the queue holds `maxBytes` or more (only 'block', a hold or closing gets it there). */
  get full(): boolean {
    return this.#bytes >= this.maxBytes;
  }

  /**
   * Adds a batch at the back, applying the overflow policy. Returns false when the queue is
   * full afterwards (policy 'block', or holding): stop reading input until `onRoom`.
   */
  push(body: Buffer, count: number): boolean {
    const batch: PendingBatch = { body, count };
    const size = body.length;
    if (size > this.maxBytes) {
      this.#drop(batch);
      return !this.full;
    }
    if (this.#bytes + size > this.maxBytes && !this.#holding()) {
      if (this.overflow === 'drop-newest') {
        this.#drop(batch);
        return true;
      }
      if (this.overflow === 'drop-oldest') {
        while (this.#bytes + size > this.maxBytes) {
          const oldest = this.#take();
          if (oldest === undefined) break;
          this.#drop(oldest);
        }
      }
    }
    this.#items.push(batch);
    this.#bytes += size;
    this.#records += count;
    if (this.full) {
      this.#wasFull = true;
      return false;
    }
    return true;
  }

  /**
   * A hold is over: what came in over `maxBytes` meanwhile is dropped, oldest or newest first
   * as the policy says ('block' keeps it all).
   */
  trim(): void {
    if (this.overflow === 'block') return;
    while (this.#bytes > this.maxBytes) {
      const batch = this.overflow === 'drop-oldest' ? this.#take() : this.#takeNewest();
      if (batch === undefined) return;
      this.#drop(batch);
    }
  }

  /** Puts a batch back at the front (one taken by `shift` and not committed). Never drops. */
  unshift(batch: PendingBatch): void {
    this.#items.unshift(batch);
    this.#bytes += batch.body.length;
    this.#records += batch.count;
  }

  /** The oldest batch, left in place. */
  peek(): PendingBatch | undefined {
    return this.#items.peek();
  }

  /** Takes the oldest batch. */
  shift(): PendingBatch | undefined {
    const batch = this.#take();
    if (batch !== undefined && this.#wasFull && !this.full) {
      this.#wasFull = false;
      this.#onRoom?.();
    }
    return batch;
  }

  /** Takes every waiting batch, oldest first (at close, to report or spool them). */
  takeAll(): PendingBatch[] {
    const all = this.#items.toArray();
    this.#items.clear();
    this.#bytes = 0;
    this.#records = 0;
    if (this.#wasFull) {
      this.#wasFull = false;
      this.#onRoom?.();
    }
    return all;
  }

  #take(): PendingBatch | undefined {
    return this.#uncount(this.#items.shift());
  }

  #takeNewest(): PendingBatch | undefined {
    return this.#uncount(this.#items.pop());
  }

  #uncount(batch: PendingBatch | undefined): PendingBatch | undefined {
    if (batch !== undefined) {
      this.#bytes -= batch.body.length;
      this.#records -= batch.count;
    }
    return batch;
  }

  #drop(batch: PendingBatch): void {
    this.#dropped += batch.count;
    this.#onDrop?.(batch);
  }
}
