import { type Batch, lastSeq } from './batch.js';

/**
 * Batches in number order, oldest first, with their byte count: a list with a head index, so
 * forgetting acknowledged batches is O(1) each (no Array#shift in a loop). Used by both stores.
 */
export class BatchQueue {
  #items: (Batch | undefined)[] = [];
  #head = 0;
  #bytes = 0;

  /** Body bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Batches held. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** The oldest batch, if any. */
  get first(): Batch | undefined {
    return this.#items[this.#head];
  }

  /** The newest batch, if any. */
  get last(): Batch | undefined {
    return this.#items.length > this.#head ? this.#items[this.#items.length - 1] : undefined;
  }

  push(batch: Batch): void {
    this.#items.push(batch);
    this.#bytes += batch.body.length;
  }

  /** Removes and returns the oldest batch. */
  shift(): Batch | undefined {
    const batch = this.#items[this.#head];
    if (batch === undefined) return undefined;
    this.#drop();
    this.#compact();
    return batch;
  }

  /**
   * Forgets every batch whose last record is ≤ `last` (a cumulative ack). A batch acked only in
   * part stays whole: it is resent whole (PROTOCOL.md §3). Returns how many were forgotten.
   */
  ackUpTo(last: number): number {
    let forgotten = 0;
    for (let batch = this.first; batch !== undefined && lastSeq(batch) <= last; batch = this.first) {
      this.#drop();
      forgotten++;
    }
    this.#compact();
    return forgotten;
  }

  /** A snapshot, oldest first: later pushes and acks do not change it. */
  toArray(): Batch[] {
    return this.#items.slice(this.#head) as Batch[];
  }

  #drop(): void {
    const batch = this.#items[this.#head];
    if (batch === undefined) return;
    this.#bytes -= batch.body.length;
    this.#items[this.#head] = undefined;
    this.#head++;
  }

  // Copies the live part down once the dead prefix is at least half the list: amortized O(1).
  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
