/**
 * The slabs the batcher writes records into, and when one may be written again. A cut lends a
 * piece of a slab (a batch body is a view of it, never a copy); whoever holds the body last gives
 * it back once nothing will read it again (the sender, when the collector acknowledged the
 * batch). A slab all of whose lent bytes came back is written again instead of a fresh one:
 * writing a burst into fresh memory costs a page fault per 4 KiB and, the memory being outside
 * V8's heap, extra garbage collections (docs/benchmarks.md, issue #4). Each lent piece is
 * known by its place in the slab, so only the very piece lent gives it back.
 *
 *   take ─▶ written, pieces lent ─▶ retired (the batcher moved on) ─▶ all given back ─▶ free list
 *                    └──────────── all given back while still current: written again in place
 *
 * Giving back is optional: a body dropped, written to fallback or still held at close is never
 * given back, and its slab is then left to the garbage collector like any Buffer. Accounts are
 * kept by the slab's ArrayBuffer in a WeakMap, so such a slab is not kept alive by the pool. A
 * slab given back a piece it has not out (twice, or a part of one) is never reused, as long as it
 * was not written over since: a body given back a second time after its slab was reused can
 * match a new piece at the same place. So each body must be given back at most once (the sender
 * does so on its acknowledgement, which happens once per batch).
 */

interface Account {
  readonly slab: Buffer;
  /** Pieces lent and not given back: offset in the slab → length. */
  readonly out: Map<number, number>;
  retired: boolean;
  poisoned: boolean;
}

/** Slab sizes grow in steps of this, so that chunks of about one size share one slab size. */
const SIZE_STEP = 1024 * 1024;
/** The largest slab size the pool adopts (pino's worker hands over chunks of up to 4 MiB). */
const MAX_POOLED = 8 * 1024 * 1024;

export class SlabPool {
  /**
   * The size of the slabs the pool reuses. A take larger than it (chunks larger than the batches)
   * raises it, in steps of SIZE_STEP, up to MAX_POOLED; larger slabs are one-offs, never kept.
   */
  #size: number;
  readonly #maxFree: number;
  readonly #accounts = new WeakMap<ArrayBufferLike, Account>();
  readonly #free: Buffer[] = [];

  constructor(size: number, maxFree: number) {
    this.#size = size;
    this.#maxFree = maxFree;
  }

  get size(): number {
    return this.#size;
  }

  /** Slabs waiting to be taken again. */
  get free(): number {
    return this.#free.length;
  }

  /** A slab of at least `bytes` (and at least `size`): a free one when it fits, else a new one. */
  take(bytes: number): Buffer {
    if (bytes > this.#size && bytes <= MAX_POOLED) {
      this.#size = Math.min(MAX_POOLED, Math.ceil(bytes / SIZE_STEP) * SIZE_STEP);
      this.#free.length = 0;
    }
    const reused = bytes <= this.#size ? this.#free.pop() : undefined;
    const slab = reused ?? Buffer.allocUnsafe(Math.max(bytes, this.#size));
    this.#accounts.set(slab.buffer, { slab, out: new Map(), retired: false, poisoned: false });
    return slab;
  }

  /** `piece`, a view of one of the pool's slabs, was handed over as a body. */
  lend(piece: Buffer): void {
    const account = this.#accounts.get(piece.buffer);
    if (account === undefined) return;
    if (account.out.has(piece.byteOffset)) account.poisoned = true;
    account.out.set(piece.byteOffset, piece.length);
  }

  /** True when no piece of `slab` is out: it may be written anywhere again. */
  idle(slab: Buffer): boolean {
    const account = this.#accounts.get(slab.buffer);
    return account !== undefined && !account.poisoned && account.out.size === 0;
  }

  /** The batcher writes no more into `slab`: it is free once every lent piece is back. */
  retire(slab: Buffer): void {
    const account = this.#accounts.get(slab.buffer);
    if (account === undefined) return;
    account.retired = true;
    this.#settle(account);
  }

  /**
   * `body`, lent earlier, will never be read again by anyone. A body that is not a piece of one
   * of this pool's slabs is ignored; one that is, but is not a piece out, poisons its slab.
   */
  giveBack(body: Buffer): void {
    const account = this.#accounts.get(body.buffer);
    if (account === undefined) return;
    if (account.out.get(body.byteOffset) === body.length) account.out.delete(body.byteOffset);
    else account.poisoned = true;
    this.#settle(account);
  }

  #settle(account: Account): void {
    if (!account.retired || account.poisoned || account.out.size > 0) return;
    this.#accounts.delete(account.slab.buffer);
    if (account.slab.length === this.#size && this.#free.length < this.#maxFree)
      this.#free.push(account.slab);
  }
}
