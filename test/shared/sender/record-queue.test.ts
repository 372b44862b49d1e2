import { describe, expect, it } from 'vitest';
import { type OverflowPolicy, type PendingBatch, RecordQueue } from '../../../shared/sender/record-queue.js';

const body = (tag: string, bytes: number): Buffer => Buffer.from(`${tag.padEnd(bytes - 1, '.')}\n`);

function queue(overflow: OverflowPolicy, maxBytes = 100, holding?: () => boolean) {
  const dropped: PendingBatch[] = [];
  let rooms = 0;
  const q = new RecordQueue({
    maxBytes,
    overflow,
    onDrop: (b) => dropped.push(b),
    onRoom: () => {
      rooms += 1;
    },
    ...(holding === undefined ? {} : { holding }),
  });
  return { q, dropped, rooms: () => rooms };
}

const tags = (batches: readonly (PendingBatch | undefined)[]): string[] =>
  batches.map((b) => b?.body.toString().replace(/[.\n]+$/, '') ?? '-');

describe('RecordQueue', () => {
  it('keeps batches in order with their bytes and records', () => {
    const { q } = queue('drop-oldest');
    q.push(body('a', 10), 2);
    q.push(body('b', 20), 3);
    expect(q.bytes).toBe(30);
    expect(q.records).toBe(5);
    expect(q.length).toBe(2);
    expect(tags([q.shift(), q.shift(), q.shift()])).toEqual(['a', 'b', '-']);
    expect(q.bytes).toBe(0);
  });

  describe("overflow 'drop-oldest'", () => {
    it('drops the oldest batches to make room and counts their records', () => {
      const { q, dropped } = queue('drop-oldest');
      q.push(body('a', 40), 4);
      q.push(body('b', 40), 4);
      expect(q.push(body('c', 40), 4)).toBe(true);
      expect(tags(dropped)).toEqual(['a']);
      expect(q.dropped).toBe(4);
      expect(q.bytes).toBe(80);
      expect(tags(q.takeAll())).toEqual(['b', 'c']);
    });
  });

  describe("overflow 'drop-newest'", () => {
    it('drops the batch that does not fit and counts it', () => {
      const { q, dropped } = queue('drop-newest');
      q.push(body('a', 40), 1);
      q.push(body('b', 40), 2);
      expect(q.push(body('c', 40), 3)).toBe(true);
      expect(tags(dropped)).toEqual(['c']);
      expect(q.dropped).toBe(3);
      expect(tags(q.takeAll())).toEqual(['a', 'b']);
    });
  });

  describe("overflow 'block'", () => {
    it('takes the batch, reports full, and calls onRoom once there is room', () => {
      const { q, dropped, rooms } = queue('block');
      expect(q.push(body('a', 60), 1)).toBe(true);
      expect(q.push(body('b', 60), 1)).toBe(false);
      expect(q.full).toBe(true);
      expect(dropped).toHaveLength(0);
      expect(rooms()).toBe(0);
      q.shift();
      expect(rooms()).toBe(1);
      expect(q.full).toBe(false);
    });
  });

  it('drops a batch larger than maxBytes under every policy', () => {
    for (const policy of ['drop-oldest', 'drop-newest', 'block'] as const) {
      const { q, dropped } = queue(policy);
      q.push(body('a', 10), 1);
      q.push(body('huge', 101), 7);
      expect(tags(dropped)).toEqual(['huge']);
      expect(q.dropped).toBe(7);
      expect(q.records).toBe(1);
    }
  });

  it('puts a batch back at the front with unshift', () => {
    const { q } = queue('drop-oldest');
    q.push(body('a', 10), 1);
    q.push(body('b', 10), 1);
    const a = q.shift()!;
    q.unshift(a);
    q.unshift({ body: body('z', 10), count: 1 });
    expect(q.records).toBe(3);
    expect(tags(q.takeAll())).toEqual(['z', 'a', 'b']);
  });

  it('stays correct over many pushes and shifts', () => {
    const { q } = queue('drop-oldest', 1 << 20);
    let next = 0;
    for (let i = 0; i < 5000; i++) {
      q.push(body(String(i), 12), 1);
      if (i % 3 !== 0) expect(tags([q.shift()])).toEqual([String(next++)]);
    }
    expect(q.records).toBe(5000 - next);
    expect(tags([q.peek()])).toEqual([String(next)]);
  });

  describe('holding (a session takes records: the drop policies wait)', () => {
    for (const overflow of ['drop-oldest', 'drop-newest'] as const) {
      it(`'${overflow}' takes batches over the bound while holding, says full, and calls onRoom`, () => {
        let hold = true;
        const { q, dropped, rooms } = queue(overflow, 100, () => hold);
        q.push(body('a', 40), 1);
        q.push(body('b', 40), 1);
        expect(q.push(body('c', 40), 1)).toBe(false);
        expect(q.full).toBe(true);
        expect(q.bytes).toBe(120);
        expect(dropped).toHaveLength(0);
        hold = false;
        q.shift();
        expect(rooms()).toBe(1);
      });
    }

    it("trim drops the oldest batches down to the bound under 'drop-oldest'", () => {
      let hold = true;
      const { q, dropped } = queue('drop-oldest', 100, () => hold);
      for (const tag of ['a', 'b', 'c', 'd']) q.push(body(tag, 40), 2);
      hold = false;
      q.trim();
      expect(tags(dropped)).toEqual(['a', 'b']);
      expect(q.dropped).toBe(4);
      expect(q.bytes).toBe(80);
      expect(tags([q.shift(), q.shift()])).toEqual(['c', 'd']);
    });

    it("trim drops the newest batches down to the bound under 'drop-newest'", () => {
      let hold = true;
      const { q, dropped } = queue('drop-newest', 100, () => hold);
      for (const tag of ['a', 'b', 'c', 'd']) q.push(body(tag, 40), 2);
      hold = false;
      q.trim();
      expect(tags(dropped)).toEqual(['d', 'c']);
      expect(q.records).toBe(4);
      expect(tags([q.shift(), q.shift(), q.shift()])).toEqual(['a', 'b', '-']);
    });

    it("trim keeps everything under 'block', and a batch larger than the bound is still dropped", () => {
      const { q, dropped } = queue('block', 100, () => true);
      for (const tag of ['a', 'b', 'c']) q.push(body(tag, 40), 1);
      q.trim();
      expect(q.bytes).toBe(120);
      q.push(body('giant', 101), 1);
      expect(tags(dropped)).toEqual(['giant']);
    });
  });
});
