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
          expect(batches).toEqual(reference(input, options));
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
