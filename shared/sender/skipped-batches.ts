/**
 * Numbered batches found over the collector's max_body: they may not be sent (§4) nor re-cut
 * (§3), so their records are dropped, and the window acknowledges them locally. Kept by first
 * sequence number, so that they count once as dropped and never also as acknowledged.
 */
export class SkippedBatches {
  /** seq → count. */
  readonly #batches = new Map<number, number>();

  /** Marks the batch starting at `seq` skipped; false when it already was (a resend). */
  add(seq: number, count: number): boolean {
    if (this.#batches.has(seq)) return false;
    this.#batches.set(seq, count);
    return true;
  }

  has(seq: number): boolean {
    return this.#batches.has(seq);
  }

  /** Forgets the skipped batches wholly at or below `last`; returns how many records they held. */
  settle(last: number): number {
    let records = 0;
    for (const [seq, count] of this.#batches) {
      if (seq + count - 1 > last) continue;
      records += count;
      this.#batches.delete(seq);
    }
    return records;
  }
}
