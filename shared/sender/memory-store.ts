import { LogwireError } from '../errors.js';
import { type Batch, lastSeq } from './batch.js';
import { BatchQueue } from './batch-queue.js';
import { appendError, type BatchStore, checkReserveCount } from './batch-store.js';

export interface MemoryStoreOptions {
  /** Bound on the body bytes held; default unbounded. */
  readonly maxBytes?: number;
}

/**
 * A BatchStore in memory: append and ack are O(1) per batch. Without a spool, a source id is
 * never reused for a new numbering (PROTOCOL.md §4), so numbering always starts at 1.
 */
export class MemoryStore implements BatchStore {
  readonly maxBytes: number;
  #queue = new BatchQueue();
  #nextSeq = 1;
  #lastAppended = 0;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  }

  get nextSeq(): number {
    return this.#nextSeq;
  }

  get firstSeq(): number {
    return this.#queue.first?.seq ?? this.#nextSeq;
  }

  get bytes(): number {
    return this.#queue.bytes;
  }

  get batches(): number {
    return this.#queue.length;
  }

  reserve(count: number): number {
    checkReserveCount(count);
    if (this.#closed)
      throw new LogwireError('LW_ERR_CLOSED', 'cannot reserve numbers: the memory store is closed');
    const first = this.#nextSeq;
    this.#nextSeq += count;
    return first;
  }

  append(batch: Batch): Promise<void> {
    const error = this.#closed
      ? new LogwireError('LW_ERR_CLOSED', `batch seq=${batch.seq} appended to a closed memory store`)
      : appendError(batch, this, this.#lastAppended);
    if (error !== undefined) return Promise.reject(error);
    this.#queue.push(batch);
    this.#lastAppended = lastSeq(batch);
    return Promise.resolve();
  }

  ack(last: number): void {
    this.#queue.ackUpTo(last);
  }

  unacked(): readonly Batch[] {
    return this.#queue.toArray();
  }

  close(): Promise<void> {
    // Unacknowledged batches stay readable: the caller reports them at close (issue #4).
    this.#closed = true;
    return Promise.resolve();
  }
}
