import { type Batch, lastSeq } from './batch.js';

/**
 * The numbered batches of one sender, as one queue with two cursors (STYLE.md, after the queue
 * comment in undici's lib/dispatcher/client.js):
 *
 * ```
 *   [ acked (gone) | sent, not yet acked | waiting to be sent ]
 *                  ^ head                ^ sent cursor         ^ end
 * ```
 *
 * `next` gives the first waiting batch while the bytes in flight leave room for it (a batch
 * larger than the whole window still goes, alone); `ack` moves the head; `rewind` moves the sent
 * cursor back to the head when a connection is lost, so every unacknowledged batch is resent
 * whole, with its own numbers (PROTOCOL.md §3).
 */
export class Window {
  /** The bound on unacknowledged bytes in flight. */
  readonly maxBytes: number;
  #items: (Batch | undefined)[] = [];
  #head = 0;
  #sent = 0;
  #inFlightBytes = 0;
  #bytes = 0;
  #records = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Batches held: in flight and waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Body bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Records held. */
  get records(): number {
    return this.#records;
  }

  /** Batches sent and not yet acknowledged. */
  get inFlight(): number {
    return this.#sent - this.#head;
  }

  /** Body bytes sent and not yet acknowledged. */
  get inFlightBytes(): number {
    return this.#inFlightBytes;
  }

  /** Batches waiting to be sent. */
  get waiting(): number {
    return this.#items.length - this.#sent;
  }

  /** The oldest batch held (in flight when `inFlight` > 0), if any. */
  get first(): Batch | undefined {
    return this.#items[this.#head];
  }

  /** The number after the last record held, or undefined when empty. */
  get end(): number | undefined {
    const last = this.#items[this.#items.length - 1];
    return last === undefined || this.length === 0 ? undefined : lastSeq(last) + 1;
  }

  /** Adds a newly numbered batch at the back, waiting. */
  push(batch: Batch): void {
    this.#items.push(batch);
    this.#bytes += batch.body.length;
    this.#records += batch.count;
  }

  /** The first waiting batch when the window has room for it, else undefined. */
  next(): Batch | undefined {
    const batch = this.#items[this.#sent];
    if (batch === undefined) return undefined;
    if (this.#inFlightBytes > 0 && this.#inFlightBytes + batch.body.length > this.maxBytes) return undefined;
    return batch;
  }

  /** Moves the batch `next` gave into flight. */
  markSent(): void {
    const batch = this.#items[this.#sent];
    if (batch === undefined) return;
    this.#sent += 1;
    this.#inFlightBytes += batch.body.length;
  }

  /**
   * Forgets every batch whose last record is ≤ `last` (cumulative), sent or not: after `READY
   * last=L` the collector already has them. Returns the records forgotten; `forgotten` sees each
   * batch as it goes.
   */
  ack(last: number, forgotten?: (batch: Batch) => void): number {
    let records = 0;
    for (let batch = this.#items[this.#head]; batch !== undefined; batch = this.#items[this.#head]) {
      if (lastSeq(batch) > last) break;
      this.#items[this.#head] = undefined;
      if (this.#head < this.#sent) this.#inFlightBytes -= batch.body.length;
      else this.#sent += 1;
      this.#head += 1;
      this.#bytes -= batch.body.length;
      this.#records -= batch.count;
      records += batch.count;
      forgotten?.(batch);
    }
    this.#compact();
    return records;
  }

  /** Everything unacknowledged goes back to waiting, to be resent whole (a new connection). */
  rewind(): void {
    this.#sent = this.#head;
    this.#inFlightBytes = 0;
  }

  /** The held batches, oldest first, as a snapshot. */
  toArray(): Batch[] {
    return this.#items.slice(this.#head) as Batch[];
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
      this.#sent = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#sent -= this.#head;
      this.#head = 0;
    }
  }
}
