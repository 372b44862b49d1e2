import { describe, expect, it } from 'vitest';
import type { Batch } from '../../../shared/sender/batch.js';
import { MemoryStore } from '../../../shared/sender/memory-store.js';
import { Numbering, type NumberingOptions } from '../../../shared/sender/numbering.js';
import { RecordQueue } from '../../../shared/sender/record-queue.js';
import { Window } from '../../../shared/sender/window.js';

const rec = (i: number, pad = 0): string => `${JSON.stringify({ i, pad: 'p'.repeat(pad) })}\n`;
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(overrides: Partial<NumberingOptions> & { windowBytes?: number; queueBytes?: number } = {}) {
  const held: Batch[] = [];
  const dropped: string[] = [];
  let sending = true;
  const queue =
    overrides.queue ??
    new RecordQueue({ maxBytes: overrides.queueBytes ?? 1 << 20, overflow: 'drop-oldest' });
  const window = overrides.window ?? new Window(overrides.windowBytes ?? 1 << 20);
  const numbering = new Numbering({
    queue,
    store: new MemoryStore(),
    window,
    durable: false,
    sending: () => sending,
    drop: (record) => dropped.push(record.toString()),
    held: (numbered) => held.push(numbered),
    ...overrides,
  });
  return {
    numbering,
    queue,
    window,
    held,
    dropped,
    setSending: (value: boolean) => {
      sending = value;
    },
  };
}

const firstRecords = (batches: readonly Batch[]): number[] =>
  batches.map((b) => (JSON.parse(b.body.toString().split('\n')[0]!) as { i: number }).i);

describe('Numbering', () => {
  it('numbers batches in queue order, consecutively from 1', async () => {
    const { numbering, queue, held } = setup();
    queue.push(Buffer.from(rec(0) + rec(1)), 2);
    queue.push(Buffer.from(rec(2)), 1);
    numbering.commit();
    await settle();
    expect(held.map((b) => [b.seq, b.count])).toEqual([
      [1, 2],
      [3, 1],
    ]);
    expect(queue.records).toBe(0);
  });

  it('lists the numbered batches whose append has not resolved (what process exit must still report)', async () => {
    const { numbering, queue, held } = setup();
    queue.push(Buffer.from(rec(0) + rec(1)), 2);
    queue.push(Buffer.from(rec(2)), 1);
    numbering.commit();
    // Synchronously after commit, as in an 'exit' listener: numbered, held nowhere else yet.
    expect(numbering.appendingBatches().map((b) => [b.seq, b.count])).toEqual([
      [1, 2],
      [3, 1],
    ]);
    expect(held).toHaveLength(0);
    await settle();
    expect(numbering.appendingBatches()).toEqual([]);
    expect(held).toHaveLength(2);
  });

  it('numbers nothing from a memory store while batches may not go out', async () => {
    const { numbering, queue, held, setSending } = setup();
    setSending(false);
    queue.push(Buffer.from(rec(0)), 1);
    numbering.commit();
    await settle();
    expect(held).toHaveLength(0);
    expect(queue.records).toBe(1);
    setSending(true);
    numbering.commit();
    await settle();
    expect(held).toHaveLength(1);
  });

  it('keeps what a memory store numbers within the window', async () => {
    const { numbering, queue, window } = setup({ windowBytes: 100 });
    for (let i = 0; i < 10; i++) queue.push(Buffer.from(rec(i, 20)), 1);
    numbering.commit();
    await settle();
    expect(window.bytes).toBeLessThanOrEqual(100);
    expect(queue.records).toBeGreaterThan(0);
  });

  it('re-cuts an unnumbered batch over the body limit and drops a lone giant before numbering', async () => {
    const { numbering, queue, held, dropped } = setup();
    numbering.maxBody = 60;
    queue.push(Buffer.from(rec(0) + rec(1, 80) + rec(2) + rec(3)), 4);
    numbering.commit();
    await settle();
    expect(dropped).toEqual([rec(1, 80)]);
    expect(held.map((b) => b.body.length <= 60)).toEqual(held.map(() => true));
    expect(held.reduce((n, b) => n + b.count, 0)).toBe(3);
    expect(held.at(-1)!.seq + held.at(-1)!.count - 1).toBe(3);
  });

  // Regression: with overflow 'block', shift() made room, the blocked write came back in, and
  // a nested commit numbered later batches before the one already taken.
  it('keeps queue order when the queue calls back into commit', async () => {
    let numbering: Numbering | undefined;
    let next = 100;
    const queue = new RecordQueue({
      maxBytes: 64,
      overflow: 'block',
      onRoom: () => {
        if (next >= 110) return;
        queue.push(Buffer.from(rec(next++)), 1);
        numbering?.commit();
      },
    });
    const ctx = setup({ queue });
    numbering = ctx.numbering;
    for (let i = 0; i < 8; i++) queue.push(Buffer.from(rec(i)), 1);
    numbering.commit();
    await settle();
    const order = firstRecords(ctx.held);
    expect(order.slice(0, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(order.slice(8)).toEqual([...order.slice(8)].sort((a, b) => a - b));
    expect(ctx.held.map((b) => b.seq)).toEqual(ctx.held.map((_, k) => k + 1));
  });
});
