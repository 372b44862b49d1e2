import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../../shared/net/clock.js';
import { Batcher, type BatcherOptions, recut } from '../../../shared/sender/batcher.js';

interface Cut {
  body: string;
  count: number;
}

function collect(options: Partial<BatcherOptions> = {}) {
  const batches: Cut[] = [];
  const oversize: { piece: string; end: boolean }[] = [];
  const batcher = new Batcher(
    { maxRecords: 1000, maxBytes: 1 << 20, maxDelay: 0, ...options },
    {
      batch: (body, count) => batches.push({ body: body.toString('utf8'), count }),
      oversize: (piece, end) => oversize.push({ piece: piece.toString('utf8'), end }),
    },
  );
  return { batcher, batches, oversize };
}

const record = (i: number, pad = 0): string => `${JSON.stringify({ i, msg: 'x'.repeat(pad) })}\n`;

describe('Batcher', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  describe('#push', () => {
    it('cuts a batch every maxRecords records', () => {
      const { batcher, batches } = collect({ maxRecords: 3, maxDelay: 1000, clock: new ManualClock() });
      for (let i = 0; i < 7; i++) batcher.push(record(i));
      expect(batches.map((b) => b.count)).toEqual([3, 3]);
      expect(batches[0]!.body).toBe(record(0) + record(1) + record(2));
      expect(batcher.pendingRecords).toBe(1);
    });

    it('cuts before a record that would pass maxBytes', () => {
      const line = record(0, 20);
      const { batcher, batches } = collect({ maxBytes: line.length * 2 + 1 });
      batcher.push(line.repeat(5));
      expect(batches.map((b) => b.count)).toEqual([2, 2, 1]);
      for (const b of batches) expect(Buffer.byteLength(b.body)).toBeLessThanOrEqual(line.length * 2 + 1);
    });

    it('gives a record longer than maxBytes a batch of its own', () => {
      const big = record(1, 100);
      const { batcher, batches } = collect({ maxBytes: 50 });
      batcher.push(record(0) + big + record(2));
      expect(batches).toEqual([
        { body: record(0), count: 1 },
        { body: big, count: 1 },
        { body: record(2), count: 1 },
      ]);
    });

    it('joins a line split across chunks at every split point', () => {
      const text = record(0) + record(1, 5) + record(2);
      for (let at = 0; at <= text.length; at++) {
        const { batcher, batches } = collect({ maxDelay: 5, clock: new ManualClock() });
        batcher.push(text.slice(0, at));
        batcher.push(text.slice(at));
        batcher.cut();
        expect(batches.map((b) => b.body).join('')).toBe(text);
        expect(batches.reduce((n, b) => n + b.count, 0)).toBe(3);
      }
    });

    it('keeps multi-byte characters whole, from strings and from Buffers', () => {
      const text = `${JSON.stringify({ msg: 'héllo ✓ 𝄞' })}\n`;
      const bytes = Buffer.from(text.repeat(3));
      const fromBuffers = collect({ maxDelay: 5, clock: new ManualClock() });
      for (let i = 0; i < bytes.length; i += 7) fromBuffers.batcher.push(bytes.subarray(i, i + 7));
      fromBuffers.batcher.cut();
      expect(fromBuffers.batches.map((b) => b.body).join('')).toBe(text.repeat(3));
      const fromStrings = collect();
      fromStrings.batcher.push(text.repeat(3));
      expect(fromStrings.batches).toEqual([{ body: text.repeat(3), count: 3 }]);
    });

    it('skips empty lines: they are not records', () => {
      const { batcher, batches } = collect({ maxDelay: 5, clock: new ManualClock() });
      batcher.push(`\n${record(0)}\n\n${record(1)}`);
      batcher.cut();
      expect(batches.map((b) => b.body).join('')).toBe(record(0) + record(1));
      expect(batches.reduce((n, b) => n + b.count, 0)).toBe(2);
    });

    it('allocates once per batch, not once per record', () => {
      const { batcher, batches } = collect({ maxRecords: 1000, maxDelay: 5, clock: new ManualClock() });
      const lines = Array.from({ length: 10_000 }, (_, i) => record(i));
      const spy = vi.spyOn(Buffer, 'allocUnsafe');
      const from = vi.spyOn(Buffer, 'from');
      for (const line of lines) batcher.push(line);
      expect(batches).toHaveLength(10);
      expect(spy.mock.calls.length).toBeLessThanOrEqual(12);
      expect(from).not.toHaveBeenCalled();
    });

    it('never writes into a body it handed over, as later chunks fill new slabs', () => {
      // Bodies are views of the slab: keep them as Buffers and read them only at the end.
      const kept: Buffer[] = [];
      const batcher = new Batcher(
        { maxRecords: 7, maxBytes: 1000, maxDelay: 5, clock: new ManualClock() },
        { batch: (body) => kept.push(body) },
      );
      let input = '';
      for (let i = 0; i < 20_000; i++) {
        const line = record(i, i % 37);
        input += line;
        // Pieces of varied size, lines split across them: the partial line moves between slabs.
        if (i % 3 === 0) {
          batcher.push(line.slice(0, 5));
          batcher.push(line.slice(5));
        } else batcher.push(Buffer.from(line));
        if (i % 11 === 0) batcher.cut();
      }
      batcher.end();
      expect(Buffer.concat(kept).toString('utf8')).toBe(input);
    });

    it('cuts any chunking into the same records (property)', () => {
      fc.assert(
        fc.property(
          fc.array(fc.string({ unit: 'grapheme', maxLength: 30 }), { minLength: 1, maxLength: 40 }),
          fc.array(fc.nat(200), { maxLength: 10 }),
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 8, max: 200 }),
          (texts, splits, maxRecords, maxBytes) => {
            const input = texts.map((t) => `${JSON.stringify(t)}\n`).join('');
            const bytes = Buffer.from(input);
            const { batcher, batches } = collect({
              maxRecords,
              maxBytes,
              maxDelay: 5,
              clock: new ManualClock(),
            });
            const points = [...new Set(splits.map((s) => s % (bytes.length + 1)))].sort((a, b) => a - b);
            let from = 0;
            for (const at of [...points, bytes.length]) {
              batcher.push(bytes.subarray(from, at));
              from = at;
            }
            batcher.end();
            expect(batches.map((b) => b.body).join('')).toBe(input);
            expect(batches.reduce((n, b) => n + b.count, 0)).toBe(texts.length);
            for (const b of batches) {
              expect(b.count).toBeLessThanOrEqual(maxRecords);
              expect(b.body.split('\n').length - 1).toBe(b.count);
              if (b.count > 1) expect(Buffer.byteLength(b.body)).toBeLessThanOrEqual(maxBytes);
            }
          },
        ),
      );
    });
  });

  describe("string chunks (as pino's worker hands them over)", () => {
    /** The batches of `input` pushed as one Buffer: what any string chunking must give too. */
    const reference = (input: string, options: Partial<BatcherOptions>): Cut[] => {
      const { batcher, batches } = collect(options);
      batcher.push(Buffer.from(input));
      batcher.end();
      return batches;
    };

    /** Split points that never part a surrogate pair (thread-stream's decoder never does). */
    const pieces = (input: string, splits: number[]): string[] => {
      const points = [...new Set(splits.map((s) => s % (input.length + 1)))].sort((a, b) => a - b);
      const out: string[] = [];
      let from = 0;
      for (let at of [...points, input.length]) {
        const unit = input.charCodeAt(at - 1);
        if (at < input.length && unit >= 0xd800 && unit <= 0xdbff) at += 1;
        if (at <= from) continue;
        out.push(input.slice(from, at));
        from = at;
      }
      return out;
    };

    it('cuts any string chunking, ASCII or not, into the same batches as bytes (property)', () => {
      fc.assert(
        fc.property(
          fc.array(
            fc
              .oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ maxLength: 30 }))
              .map((t) => t.replaceAll('\n', '')),
            { minLength: 1, maxLength: 40 },
          ),
          fc.array(fc.nat(2000), { maxLength: 10 }),
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 8, max: 200 }),
          (lines, splits, maxRecords, maxBytes) => {
            const input = `${lines.join('\n')}\n`;
            const options = { maxRecords, maxBytes, maxDelay: 5, clock: new ManualClock() };
            const { batcher, batches } = collect(options);
            for (const piece of pieces(input, splits)) batcher.push(piece);
            batcher.end();
            expect(batches).toEqual(reference(input, options));
          },
        ),
      );
    });

    it('ends a batch at the end of its slab: batches tile their slabs, only a partial line moves', () => {
      // maxBytes 1000: 64 KiB slabs. One record per write, as an in-process logger writes.
      const bodies: Buffer[] = [];
      const batcher = new Batcher(
        { maxRecords: 1000, maxBytes: 1000, maxDelay: 5, clock: new ManualClock() },
        { batch: (body) => bodies.push(body) },
      );
      const line = record(0, 300); // 320 bytes: 3 per batch, and 1000 is no multiple of it
      const records = 10_000;
      for (let i = 0; i < records; i++) batcher.push(line);
      batcher.end();
      const slabs = new Set(bodies.map((b) => b.buffer));
      const held = bodies.reduce((n, b) => n + b.length, 0);
      expect(held).toBe(records * line.length);
      // Every slab is filled up to less than a record from its end: nothing moved whole.
      expect(slabs.size).toBe(Math.ceil(held / (65536 - line.length)));
      for (const body of bodies) expect(body.length).toBeLessThanOrEqual(1000);
    });

    it('writes a multi-byte string that just fills the slab whole, at every offset', () => {
      // maxBytes 1000: 64 KiB slabs. The filler leaves 0 to 24 bytes free, then a string whose
      // length fits but whose bytes may not.
      for (let free = 0; free <= 24; free++) {
        for (const tail of ['ééééé\n', 'a😀😀b\n', '€€€€€€€€\n', `${'x'.repeat(9)}\n`]) {
          const filler = `${'y'.repeat(999)}\n`.repeat(65);
          const partial = 'z'.repeat(65536 - filler.length - free);
          const input = filler + partial + tail + record(1);
          const options = { maxRecords: 100, maxBytes: 1000, maxDelay: 5, clock: new ManualClock() };
          const { batcher, batches } = collect(options);
          batcher.push(filler);
          batcher.push(partial);
          batcher.push(tail);
          batcher.push(record(1));
          batcher.end();
          // The same records, whole; the slab's end may end a batch early (see the test below).
          expect(batches.map((b) => b.body).join('')).toBe(input);
          expect(batches.reduce((n, b) => n + b.count, 0)).toBe(
            reference(input, options).reduce((n, b) => n + b.count, 0),
          );
        }
      }
    });
  });

  describe('maxDelay', () => {
    it('cuts a waiting batch after maxDelay ms, not before', () => {
      const clock = new ManualClock();
      const { batcher, batches } = collect({ maxDelay: 10, clock });
      batcher.push(record(0));
      clock.advance(9);
      expect(batches).toHaveLength(0);
      batcher.push(record(1));
      clock.advance(1);
      expect(batches).toEqual([{ body: record(0) + record(1), count: 2 }]);
      expect(clock.pending).toBe(0);
    });

    it('starts no timer for a partial line alone', () => {
      const clock = new ManualClock();
      const { batcher } = collect({ maxDelay: 10, clock });
      batcher.push('{"partial":');
      expect(clock.pending).toBe(0);
    });

    it('cuts at the end of every push with maxDelay 0', () => {
      const { batcher, batches } = collect({ maxDelay: 0 });
      batcher.push(record(0) + record(1));
      batcher.push(record(2));
      expect(batches.map((b) => b.count)).toEqual([2, 1]);
    });
  });

  describe('oversize records', () => {
    it('hands a whole line over maxRecordBytes to oversize and goes on', () => {
      const big = record(1, 200);
      const { batcher, batches, oversize } = collect({ maxRecordBytes: 100 });
      batcher.push(record(0) + big + record(2));
      expect(oversize).toEqual([{ piece: big, end: true }]);
      expect(batches.map((b) => b.body).join('')).toBe(record(0) + record(2));
    });

    it('streams a giant split across chunks without keeping it', () => {
      const big = record(1, 1000);
      const { batcher, batches, oversize } = collect({ maxRecordBytes: 100 });
      const text = record(0) + big + record(2);
      for (let i = 0; i < text.length; i += 64) batcher.push(text.slice(i, i + 64));
      expect(oversize.map((o) => o.piece).join('')).toBe(big);
      expect(oversize.filter((o) => o.end)).toHaveLength(1);
      expect(oversize.at(-1)!.end).toBe(true);
      expect(batches.map((b) => b.body).join('')).toBe(record(0) + record(2));
      expect(batcher.pendingBytes).toBeLessThan(200);
    });
  });

  describe('#end', () => {
    it('ends a last line without LF and cuts it', () => {
      const { batcher, batches } = collect({ maxDelay: 10, clock: new ManualClock() });
      batcher.push(`${record(0)}{"last":true}`);
      batcher.end();
      expect(batches).toEqual([{ body: `${record(0)}{"last":true}\n`, count: 2 }]);
      batcher.push(record(3));
      expect(batches).toHaveLength(1);
    });
  });

  describe('slab reuse', () => {
    /** A body as cut, with a copy of its bytes taken at cut time. */
    interface Lent {
      readonly body: Buffer;
      readonly copy: Buffer;
      readonly count: number;
      released: boolean;
    }

    function lending(options: Partial<BatcherOptions> = {}) {
      const lent: Lent[] = [];
      const batcher = new Batcher(
        { maxRecords: 20, maxBytes: 1000, maxDelay: 0, ...options },
        { batch: (body, count) => lent.push({ body, copy: Buffer.from(body), count, released: false }) },
      );
      const release = (item: Lent): void => {
        item.released = true;
        batcher.release(item.body);
      };
      return { batcher, lent, release };
    }

    /** Indices of the bodies still out whose bytes changed since their cut. */
    const overwritten = (lent: readonly Lent[]): number[] =>
      lent.flatMap((item, i) => (!item.released && !item.body.equals(item.copy) ? [i] : []));

    /** What the batches held when they were cut, end to end. */
    const asCut = (lent: readonly Lent[]): Buffer => Buffer.concat(lent.map((item) => item.copy));

    /** `count` records in one string, from record `from` on, of varied lengths. */
    const records = (from: number, count: number): string => {
      let text = '';
      for (let i = from; i < from + count; i++) text += record(i, i % 23);
      return text;
    };

    /** mulberry32: a run's chunk kinds and release schedule follow from one seed, so a failure replays. */
    function random(seed: number): () => number {
      let a = seed >>> 0;
      return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
    }

    /** Pieces of `input` of the given lengths in turn, never parting a surrogate pair. */
    function chunks(input: string, sizes: readonly number[]): string[] {
      const out: string[] = [];
      for (let from = 0, k = 0; from < input.length; k++) {
        let to = Math.min(input.length, from + sizes[k % sizes.length]!);
        const unit = input.charCodeAt(to - 1);
        if (to < input.length && unit >= 0xd800 && unit <= 0xdbff) to += 1;
        out.push(input.slice(from, to));
        from = to;
      }
      return out;
    }

    it('never writes into a body not given back, whatever the chunking and release order (property)', () => {
      // Runs where fewer slabs held the batches than the input fills: slabs were written again.
      let reusing = 0;
      fc.assert(
        fc.property(
          fc.array(
            fc.oneof(
              fc.string({ unit: 'grapheme', maxLength: 60 }),
              fc.string({ unit: 'binary', maxLength: 40 }),
              fc.string({ minLength: 100, maxLength: 3000 }),
            ),
            { minLength: 1, maxLength: 20 },
          ),
          // Input bytes: 64 KiB slabs (maxBytes ≤ 2000), so 3 to 7 slabs' worth.
          fc.integer({ min: 200_000, max: 400_000 }),
          // Chunk lengths in turn: many small (lines split often), some large.
          fc.array(fc.oneof(fc.integer({ min: 7, max: 300 }), fc.integer({ min: 300, max: 5000 })), {
            minLength: 1,
            maxLength: 12,
          }),
          fc.integer({ min: 64, max: 2000 }),
          fc.integer({ min: 1, max: 100 }),
          // Per body: the chance (‰) it is never given back (one such pins its slab for good, so
          // often none), and within how many pushes it is given back otherwise.
          fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 10, max: 1000 })),
          fc.integer({ min: 1, max: 60 }),
          fc.integer(),
          (texts, target, sizes, maxBytes, maxRecords, keepPermille, maxLag, seed) => {
            const rand = random(seed);
            let input = '';
            let count = 0;
            for (let bytes = 0; bytes < target; count++) {
              const line = `${count}:${texts[count % texts.length]!.replaceAll('\n', ' ')}\n`;
              input += line;
              bytes += Buffer.byteLength(line);
            }
            const { batcher, lent, release } = lending({
              maxBytes,
              maxRecords,
              maxDelay: 5,
              clock: new ManualClock(),
            });
            // Bodies to give back after push number n: a random subset of those cut so far.
            const due = new Map<number, Lent[]>();
            let scheduled = 0;
            let push = 0;
            for (const piece of chunks(input, sizes)) {
              const kind = rand();
              if (kind < 1 / 3) batcher.push(piece);
              else {
                const bytes = Buffer.from(piece);
                if (kind < 2 / 3) batcher.push(bytes);
                else {
                  // A Buffer split anywhere, through a multi-byte character too.
                  const at = Math.floor(rand() * (bytes.length + 1));
                  batcher.push(bytes.subarray(0, at));
                  batcher.push(bytes.subarray(at));
                }
              }
              if (rand() < 0.05) batcher.cut();
              for (; scheduled < lent.length; scheduled++) {
                if (rand() * 1000 < keepPermille) continue;
                const when = push + Math.floor(rand() * maxLag);
                const list = due.get(when) ?? [];
                list.push(lent[scheduled]!);
                due.set(when, list);
              }
              const going = due.get(push) ?? [];
              due.delete(push);
              // In any order, not the order they were cut in.
              for (let i = going.length - 1; i > 0; i--) {
                const j = Math.floor(rand() * (i + 1));
                [going[i], going[j]] = [going[j]!, going[i]!];
              }
              for (const item of going) release(item);
              push += 1;
            }
            batcher.end();
            expect(overwritten(lent)).toEqual([]);
            expect(asCut(lent).equals(Buffer.from(input))).toBe(true);
            expect(lent.reduce((n, item) => n + item.count, 0)).toBe(count);
            const slabs = new Set(lent.map((item) => item.body.buffer)).size;
            if (slabs * 64 * 1024 < Buffer.byteLength(input)) reusing += 1;
          },
        ),
        { numRuns: 30 },
      );
      expect(reusing).toBeGreaterThan(0);
    });

    it.each([
      ['as soon as they are cut', 0],
      ['eight batches later (slabs come back through the free list)', 8],
    ])('writes slabs again when their bodies come back %s', (_, lag) => {
      const { batcher, lent, release } = lending();
      let input = '';
      let next = 0;
      for (let i = 0; i < 20_000; i += 10) {
        const chunk = records(i, 10);
        input += chunk;
        batcher.push(chunk);
        while (next < lent.length - lag) release(lent[next++]!);
      }
      expect(Buffer.byteLength(input)).toBeGreaterThan(9 * 64 * 1024);
      expect(lent.length).toBe(2000);
      expect(asCut(lent).toString('utf8')).toBe(input);
      expect(overwritten(lent)).toEqual([]);
      // Nine slabs' worth of batches in no more than three slabs.
      expect(new Set(lent.map((item) => item.body.buffer)).size).toBeLessThanOrEqual(3);
    });

    it.each([
      ['at once', 0],
      ['eight batches later', 8],
    ])('never writes a slab again while a body of it is out (the others back %s)', (_, lag) => {
      const { batcher, lent, release } = lending();
      let input = '';
      let next = 1;
      for (let i = 0; i < 20_000; i += 10) {
        const chunk = records(i, 10);
        input += chunk;
        batcher.push(chunk);
        // Every body but the first comes back.
        while (next < lent.length - lag) release(lent[next++]!);
      }
      const pinned = lent[0]!;
      expect(pinned.released).toBe(false);
      expect(overwritten(lent)).toEqual([]);
      expect(asCut(lent).toString('utf8')).toBe(input);
      // The pinned slab holds only the bodies cut before it filled; the rest reuse other slabs.
      const inPinned = lent.map((item) => item.body.buffer === pinned.body.buffer);
      const firstElsewhere = inPinned.indexOf(false);
      expect(firstElsewhere).toBeGreaterThan(0);
      expect(firstElsewhere).toBeLessThan(lent.length / 5);
      expect(inPinned.slice(firstElsewhere)).not.toContain(true);
      expect(new Set(lent.map((item) => item.body.buffer)).size).toBeLessThanOrEqual(4);
    });

    it('a body given back twice does not free its slab while another body of it is out', () => {
      const { batcher, lent, release } = lending();
      let input = records(0, 3) + records(3, 3);
      batcher.push(records(0, 3));
      batcher.push(records(3, 3));
      const [twice, out] = lent;
      expect(out!.body.buffer).toBe(twice!.body.buffer);
      release(twice!);
      batcher.release(twice!.body);
      for (let i = 6; i < 20_000; i += 10) {
        const chunk = records(i, 10);
        input += chunk;
        batcher.push(chunk);
        for (const item of lent.slice(2)) if (!item.released) release(item);
      }
      expect(out!.released).toBe(false);
      expect(overwritten(lent)).toEqual([]);
      expect(asCut(lent).toString('utf8')).toBe(input);
    });

    it('a part of a body given back (a re-cut piece) does not free its slab while the rest is out', () => {
      const { batcher, lent, release } = lending();
      let input = records(0, 2);
      batcher.push(input);
      const whole = lent[0]!;
      const split = Buffer.byteLength(record(0, 0));
      const tail = whole.body.subarray(split);
      const tailCopy = Buffer.from(tail);
      // The sender gives back each piece a re-cut made of a body once acknowledged: here the first.
      batcher.release(whole.body.subarray(0, split));
      for (let i = 2; i < 20_000; i += 10) {
        const chunk = records(i, 10);
        input += chunk;
        batcher.push(chunk);
        for (const item of lent.slice(1)) if (!item.released) release(item);
      }
      expect(tail.equals(tailCopy)).toBe(true);
      expect(asCut(lent).toString('utf8')).toBe(input);
    });
  });
});

describe('recut', () => {
  it('cuts a body into views within the limit and isolates lone giants', () => {
    const body = Buffer.from(record(0) + record(1, 50) + record(2) + record(3));
    const { batches, oversize } = recut(body, 40);
    expect(oversize.map((b) => b.toString())).toEqual([record(1, 50)]);
    expect(batches.map((b) => [b.body.toString(), b.count])).toEqual([
      [record(0), 1],
      [record(2) + record(3), 2],
    ]);
  });
});
