/**
 * The loss counter of UDP batches (PROTOCOL.md §7), kept apart from the high-water marks: a
 * datagram cannot move a mark (anyone can forge one), it only says what it skipped. In memory
 * only, and bounded, since every forged source id would otherwise add an entry.
 */

export const DEFAULT_MAX_UDP_SOURCES = 10_000;

export class UdpLossCounter {
  readonly #max: number;
  /** Next expected number per source, oldest-noted first (a Map keeps insertion order). */
  readonly #next = new Map<string, number>();
  #lost = 0;

  constructor(maxSources: number = DEFAULT_MAX_UDP_SOURCES) {
    this.#max = maxSources;
  }

  /** Notes a batch `seq`…`seq+count-1`; returns how many records it shows lost (a gap before it). */
  note(source: string, seq: number, count: number): number {
    const expected = this.#next.get(source);
    const end = seq + count;
    let lost = 0;
    if (expected === undefined) {
      if (this.#next.size >= this.#max) {
        const oldest = this.#next.keys().next();
        if (oldest.done !== true) this.#next.delete(oldest.value);
      }
      this.#next.set(source, end);
    } else {
      // Late or duplicated datagrams (seq below expected) are not a loss; a jump is.
      if (seq > expected) lost = seq - expected;
      this.#next.delete(source);
      this.#next.set(source, Math.max(expected, end));
    }
    this.#lost += lost;
    return lost;
  }

  /** Records counted lost over UDP since start. */
  get lost(): number {
    return this.#lost;
  }
}
