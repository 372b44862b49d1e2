import { describe, expect, it } from 'vitest';
import { SlabPool } from '../../shared/slab-pool.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('SlabPool', () => {
  it('gives a retired slab out again once every piece it lent came back', () => {
    const pool = new SlabPool(64 * KiB, 2);
    const slab = pool.take(0);
    const a = slab.subarray(0, 100);
    const b = slab.subarray(100, 300);
    pool.lend(a);
    pool.lend(b);
    pool.retire(slab);
    pool.giveBack(b);
    expect(pool.free).toBe(0);
    expect(pool.take(0)).not.toBe(slab);
    pool.giveBack(a);
    expect(pool.free).toBe(1);
    expect(pool.take(0)).toBe(slab);
  });

  it('says a slab is idle, for reuse in place, only while no piece is out', () => {
    const pool = new SlabPool(64 * KiB, 2);
    const slab = pool.take(0);
    expect(pool.idle(slab)).toBe(true);
    const piece = slab.subarray(0, 10);
    pool.lend(piece);
    expect(pool.idle(slab)).toBe(false);
    pool.giveBack(piece);
    expect(pool.idle(slab)).toBe(true);
  });

  it('never reuses a slab with a piece not given back (dropped, at fallback, at close)', () => {
    const pool = new SlabPool(64 * KiB, 2);
    const slab = pool.take(0);
    pool.lend(slab.subarray(0, 10));
    pool.lend(slab.subarray(10, 30));
    pool.retire(slab);
    pool.giveBack(slab.subarray(10, 30));
    expect(pool.free).toBe(0);
    expect(pool.idle(slab)).toBe(false);
  });

  it('never reuses a slab given back a piece twice, even when the byte counts add up', () => {
    const pool = new SlabPool(64 * KiB, 2);
    const slab = pool.take(0);
    const a = slab.subarray(0, 10);
    pool.lend(a);
    pool.lend(slab.subarray(10, 20));
    pool.giveBack(a);
    pool.giveBack(a);
    expect(pool.idle(slab)).toBe(false);
    pool.retire(slab);
    expect(pool.free).toBe(0);
    // Even once the other piece comes back, the books cannot be trusted.
    pool.giveBack(slab.subarray(10, 20));
    expect(pool.free).toBe(0);
  });

  it('never reuses a slab given back a part of a piece (a body re-cut after it was lent)', () => {
    const pool = new SlabPool(64 * KiB, 2);
    const slab = pool.take(0);
    pool.lend(slab.subarray(0, 100));
    pool.giveBack(slab.subarray(0, 50));
    pool.giveBack(slab.subarray(50, 100));
    pool.retire(slab);
    expect(pool.free).toBe(0);
  });

  it('ignores a body that is not a piece of its slabs', () => {
    const pool = new SlabPool(64 * KiB, 2);
    const slab = pool.take(0);
    pool.lend(slab.subarray(0, 10));
    pool.giveBack(Buffer.alloc(10));
    pool.giveBack(Buffer.allocUnsafe(MiB).subarray(0, 10));
    expect(pool.idle(slab)).toBe(false);
  });

  it('keeps at most maxFree slabs', () => {
    const pool = new SlabPool(64 * KiB, 2);
    const slabs = [pool.take(0), pool.take(0), pool.take(0)];
    for (const slab of slabs) pool.retire(slab);
    expect(pool.free).toBe(2);
  });

  it('grows its size in 1 MiB steps to fit larger takes, up to 8 MiB; larger slabs are one-offs', () => {
    const pool = new SlabPool(512 * KiB, 2);
    const small = pool.take(0);
    pool.retire(small);
    expect(pool.free).toBe(1);
    const chunk = pool.take(4 * MiB + 100);
    expect(pool.size).toBe(5 * MiB);
    expect(chunk.length).toBe(5 * MiB);
    // Slabs of the old size are no use any more.
    expect(pool.free).toBe(0);
    pool.retire(chunk);
    expect(pool.take(4 * MiB)).toBe(chunk);
    const huge = pool.take(20 * MiB);
    expect(huge.length).toBe(20 * MiB);
    expect(pool.size).toBe(5 * MiB);
    pool.retire(huge);
    expect(pool.free).toBe(0);
  });
});
