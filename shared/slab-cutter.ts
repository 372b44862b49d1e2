import type { SlabPool } from './slab-pool.js';

/**
 * Hands out fresh buffers of any size as consecutive pieces of a pool's slabs: the frame
 * decoder copies a body that spans socket reads into one. The collector has one cutter for all
 * its connections, so it holds one slab being cut, not one per connection. Whoever reads the piece last gives it
 * back to the pool (the collector's writer, once the batch is written); a piece never given
 * back is left to the garbage collector with its slab. Copying into reused memory instead of a
 * new Buffer per body saves the page faults and most of the collections (docs/benchmarks.md).
 */
export class SlabCutter {
  readonly #pool: SlabPool;
  #slab: Buffer | undefined;
  #used = 0;

  constructor(pool: SlabPool) {
    this.#pool = pool;
  }

  /** `bytes` bytes of pooled memory, lent: write them, then give them back once read. */
  cut(bytes: number): Buffer {
    let slab = this.#slab;
    // Every piece cut so far is back: the slab is written again from its start.
    if (slab !== undefined && this.#used > 0 && this.#pool.idle(slab)) this.#used = 0;
    if (slab === undefined || slab.length - this.#used < bytes) {
      if (slab !== undefined) this.#pool.retire(slab);
      slab = this.#pool.take(bytes);
      this.#slab = slab;
      this.#used = 0;
    }
    const piece = slab.subarray(this.#used, this.#used + bytes);
    this.#used += bytes;
    this.#pool.lend(piece);
    return piece;
  }
}
