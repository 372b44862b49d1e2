import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlabCutter } from '../../shared/slab-cutter.js';
import { SlabPool } from '../../shared/slab-pool.js';

const KiB = 1024;

describe('SlabCutter', () => {
  it('cuts consecutive pieces of one slab, and takes a new slab when one does not fit', () => {
    const cutter = new SlabCutter(new SlabPool(64 * KiB, 2));
    const a = cutter.cut(40 * KiB);
    const b = cutter.cut(20 * KiB);
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(a.byteOffset + a.length);
    const c = cutter.cut(10 * KiB);
    expect(c.buffer).not.toBe(a.buffer);
    expect(c).toHaveLength(10 * KiB);
  });

  it('writes the current slab again from its start once every piece is back', () => {
    const pool = new SlabPool(64 * KiB, 2);
    const cutter = new SlabCutter(pool);
    const a = cutter.cut(30 * KiB);
    pool.giveBack(a);
    const b = cutter.cut(30 * KiB);
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(a.byteOffset);
  });

  it('reuses a full slab once its pieces are back, and never one with a piece out', () => {
    const pool = new SlabPool(64 * KiB, 2);
    const cutter = new SlabCutter(pool);
    const held = cutter.cut(60 * KiB);
    const back = cutter.cut(60 * KiB); // a second slab; the first is retired, `held` still out
    cutter.cut(60 * KiB); // a third; the second is retired
    pool.giveBack(back);
    expect(pool.free).toBe(1);
    const again = cutter.cut(60 * KiB);
    expect(again.buffer).toBe(back.buffer);
    expect(again.buffer).not.toBe(held.buffer);
  });

  it('gives a piece larger than the slabs a slab of its own', () => {
    const cutter = new SlabCutter(new SlabPool(64 * KiB, 2));
    expect(cutter.cut(100 * KiB)).toHaveLength(100 * KiB);
    expect(cutter.cut(64 * KiB)).toHaveLength(64 * KiB);
  });

  it('never hands out bytes of a piece still out, whatever the order pieces come back in (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.record({ cut: fc.integer({ min: 1, max: 40 * KiB }) }), fc.record({ back: fc.nat() })),
          { maxLength: 200 },
        ),
        (steps) => {
          const pool = new SlabPool(64 * KiB, 2);
          const cutter = new SlabCutter(pool);
          const out: Array<{ piece: Buffer; fill: number }> = [];
          let fill = 0;
          for (const step of steps) {
            if ('cut' in step) {
              const piece = cutter.cut(step.cut);
              expect(piece).toHaveLength(step.cut);
              fill = (fill + 1) % 256;
              piece.fill(fill);
              out.push({ piece, fill });
            } else if (out.length > 0) {
              const [{ piece }] = out.splice(step.back % out.length, 1) as [{ piece: Buffer; fill: number }];
              pool.giveBack(piece);
            }
            // Every piece still out holds what was written into it: nothing cut later overlapped it.
            for (const { piece, fill: value } of out) {
              expect(piece.every((byte) => byte === value)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
