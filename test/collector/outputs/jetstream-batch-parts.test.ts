import fc from 'fast-check';
import { expect, it } from 'vitest';
import { HEADER_ROOM, splitBatch } from '../../../collector/outputs/jetstream/batch-parts.js';

const lines = fc.array(
  fc.string({ minLength: 0, maxLength: 40 }).map((s) => `${s.replace(/\n/g, ' ')}\n`),
  {
    minLength: 1,
    maxLength: 60,
  },
);

it('cuts at record boundaries into consecutive parts that fit, and back into the same bytes', () => {
  fc.assert(
    fc.property(
      lines,
      fc.integer({ min: 1, max: 1_000 }),
      fc.integer({ min: 41, max: 400 }),
      (records, seq, room) => {
        const body = Buffer.from(records.join(''));
        const parts = splitBatch(seq, records.length, body, room + HEADER_ROOM);
        expect(parts).toBeDefined();
        expect(Buffer.concat(parts!.map((p) => p.body)).equals(body)).toBe(true);
        let next = seq;
        for (const part of parts!) {
          expect(part.seq).toBe(next);
          if (body.length > room) expect(part.body.length).toBeLessThanOrEqual(room);
          expect(part.body.toString().split('\n').length - 1).toBe(part.count);
          next += part.count;
        }
        expect(next).toBe(seq + records.length);
      },
    ),
  );
});

it('gives up on a record larger than a message, or a body that does not hold count lines', () => {
  expect(splitBatch(1, 2, Buffer.from(`${'x'.repeat(100)}\nshort\n`), 50 + HEADER_ROOM)).toBeUndefined();
  expect(
    splitBatch(1, 3, Buffer.from(`${'a'.repeat(40)}\n${'b'.repeat(40)}\n`), 50 + HEADER_ROOM),
  ).toBeUndefined();
  expect(splitBatch(5, 1, Buffer.from('small\n'), 50 + HEADER_ROOM)).toEqual([
    { seq: 5, count: 1, body: Buffer.from('small\n') },
  ]);
});
