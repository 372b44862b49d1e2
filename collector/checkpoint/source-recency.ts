import type { SourceMark } from './checkpoint-store.js';

/**
 * The sources that have a mark, least recently active first: the order in which marks are
 * evicted when the table is full (max_sources) and a new source writes. Activity is a write, a
 * gap, or a registration of a source that has a mark: a source that reconnects is the one most
 * likely to retransmit, so its mark is the one most worth keeping.
 *
 * A Map keeps insertion order, so moving an id to the end on each activity keeps the order in
 * O(1) per change; marks loaded from disk are inserted by their `seen` time.
 */
export class SourceRecency {
  readonly #order = new Map<string, true>();

  static from(marks: Iterable<readonly [string, SourceMark]>): SourceRecency {
    const recency = new SourceRecency();
    const sorted = [...marks].sort((a, b) => a[1].seen - b[1].seen);
    for (const [id] of sorted) recency.#order.set(id, true);
    return recency;
  }

  get size(): number {
    return this.#order.size;
  }

  /** `id` was active now: it moves to the most recent end. */
  touch(id: string): void {
    this.#order.delete(id);
    this.#order.set(id, true);
  }

  forget(id: string): void {
    this.#order.delete(id);
  }

  /**
   * Forgets and returns the least recently active sources until fewer than `max` are left,
   * never one `keep` holds (a live session's: REGISTER bounds those, so when every mark is one
   * of them the table outgrows `max` by little). The cost of an eviction: a retransmission from
   * that source is no longer recognised, and is written again.
   */
  makeRoom(max: number, keep: (id: string) => boolean): string[] {
    const evicted: string[] = [];
    for (const id of this.#order.keys()) {
      if (this.#order.size < max) break;
      if (keep(id)) continue;
      this.#order.delete(id);
      evicted.push(id);
    }
    return evicted;
  }
}
