import { Fifo } from '../fifo.js';
import { type Batch, lastSeq } from './batch.js';

/**
 * Batches in number order, oldest first, with their byte count; forgetting acknowledged
 * batches is O(1) each (a Fifo). Used by both stores.
 */
export class BatchQueue {
  readonly #items = new Fifo<Batch>();
  #bytes = 0;

  /** Body bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Batches held. */
  get length(): number {
    return this.#items.length;
  }

  /** The oldest batch, if any. */
  get first(): Batch | undefined {
    return this.#items.peek();
  }

  /** The newest batch, if any. */
  get last(): Batch | undefined {
    return this.#items.peekLast();
  }

  push(batch: Batch): void {
    this.#items.push(batch);
    this.#bytes += batch.body.length;
  }

  /** Removes and returns the oldest batch. */
  shift(): Batch | undefined {
    const batch = this.#items.shift();
    if (batch !== undefined) this.#bytes -= batch.body.length;
    return batch;
  }

  /**
   * Forgets every batch whose last record is ≤ `last` (a cumulative ack). A batch acked only in
   * part stays whole: it is resent whole (PROTOCOL.md §3). Returns how many were forgotten.
   */
  ackUpTo(last: number): number {
    let forgotten = 0;
    for (let batch = this.first; batch !== undefined && lastSeq(batch) <= last; batch = this.first) {
      this.shift();
      forgotten++;
    }
    return forgotten;
  }

  /** A snapshot, oldest first: later pushes and acks do not change it. */
  toArray(): Batch[] {
    return this.#items.toArray();
  }
}
