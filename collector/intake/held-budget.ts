/**
 * One budget for the bytes the collector holds on behalf of peers: bytes received for messages
 * not yet whole (a body still arriving, a line without its LF) on every connection, plus the
 * writer's backlog, against `pause_above`. Without it a peer that sends all but the last bytes
 * of a 16 MiB body costs 16 MiB outside every limit, and a thousand such peers exhaust memory.
 *
 *   within ──(held + queued > limit)──▶ over ──(held + queued ≤ limit / 2)──▶ within
 *
 * Over the limit, every link that holds bytes stops being read, the largest holders first,
 * except one: the grant, which reads on until its message is whole (so concurrent large
 * bodies still finish, one after the other). A link holding nothing reads on, so small
 * messages that arrive whole are still served; once it holds bytes it stops too. Memory then
 * stays within the limit plus one message plus one read per link.
 */

export interface HeldBudgetOptions<K> {
  /** The budget in bytes (pause_above), read at each decision so RELOAD applies. */
  readonly limit: () => number;
  /** Stop reading from this holder. */
  readonly stop: (key: K) => void;
  /** Read from this holder again. */
  readonly resume: (key: K) => void;
}

type BudgetState = 'within' | 'over';

export class HeldBudget<K> {
  readonly #options: HeldBudgetOptions<K>;
  /** Holders with bytes held (> 0). */
  readonly #held = new Map<K, number>();
  readonly #stopped = new Set<K>();
  #total = 0;
  #queued = 0;
  #state: BudgetState = 'within';
  #grant: K | undefined;

  constructor(options: HeldBudgetOptions<K>) {
    this.#options = options;
  }

  /** Bytes held for unfinished messages, over all holders. */
  get heldBytes(): number {
    return this.#total;
  }

  /** Holders not read because of the budget. */
  get stoppedCount(): number {
    return this.#stopped.size;
  }

  get state(): BudgetState {
    return this.#state;
  }

  /** `key` now holds `bytes` for its unfinished message (0: none). */
  update(key: K, bytes: number): void {
    const before = this.#held.get(key) ?? 0;
    if (bytes === before) return;
    this.#total += bytes - before;
    if (bytes === 0) this.#held.delete(key);
    else this.#held.set(key, bytes);
    this.#settle(key);
  }

  /** The holder is gone: its bytes are freed, and it is neither stopped nor resumed any more. */
  remove(key: K): void {
    this.#stopped.delete(key);
    this.update(key, 0);
    if (this.#grant === key) {
      this.#grant = undefined;
      this.#settle(undefined);
    }
  }

  /** The writer's backlog in bytes: it counts toward the same limit. */
  setQueued(bytes: number): void {
    if (bytes === this.#queued) return;
    this.#queued = bytes;
    this.#settle(undefined);
  }

  #settle(changed: K | undefined): void {
    const load = this.#total + this.#queued;
    const limit = this.#options.limit();
    if (this.#state === 'within') {
      if (load > limit) this.#goOver();
      return;
    }
    if (load <= limit / 2) {
      this.#goWithin();
      return;
    }
    // The grant's message is whole (or it left): the next smallest holder may finish its own.
    if (this.#grant !== undefined && !this.#held.has(this.#grant)) this.#grant = undefined;
    if (this.#grant === undefined) {
      this.#grant = this.#smallestHolder();
      if (this.#grant !== undefined && this.#stopped.delete(this.#grant)) this.#options.resume(this.#grant);
    }
    if (changed !== undefined && changed !== this.#grant && this.#held.has(changed)) this.#stop(changed);
  }

  #goOver(): void {
    this.#state = 'over';
    this.#grant = this.#smallestHolder();
    const largestFirst = [...this.#held].sort((a, b) => b[1] - a[1]);
    for (const [key] of largestFirst) {
      if (key !== this.#grant) this.#stop(key);
    }
  }

  #goWithin(): void {
    this.#state = 'within';
    this.#grant = undefined;
    const stopped = [...this.#stopped];
    this.#stopped.clear();
    for (const key of stopped) this.#options.resume(key);
  }

  #stop(key: K): void {
    if (this.#stopped.has(key)) return;
    this.#stopped.add(key);
    this.#options.stop(key);
  }

  #smallestHolder(): K | undefined {
    let smallest: K | undefined;
    let least = Number.POSITIVE_INFINITY;
    for (const [key, bytes] of this.#held) {
      if (bytes < least) {
        smallest = key;
        least = bytes;
      }
    }
    return smallest;
  }
}
