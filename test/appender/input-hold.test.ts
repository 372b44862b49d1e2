import { describe, expect, it } from 'vitest';
import { HOLD_LIMIT_MS, HOLD_MAX_MS, InputHold, type QueueGauge } from '../../appender/input-hold.js';
import { ManualClock } from '../../shared/net/clock.js';
import type { OverflowPolicy } from '../../shared/sender/record-queue.js';

/** A queue whose fill the test sets; trim() empties what is over the bound. */
class TestQueue implements QueueGauge {
  bytes = 0;
  readonly maxBytes = 100;
  trims = 0;
  get full(): boolean {
    return this.bytes >= this.maxBytes;
  }
  trim(): void {
    this.trims += 1;
    this.bytes = Math.min(this.bytes, this.maxBytes - 1);
  }
}

function setup(overflow: OverflowPolicy, taking = true) {
  const clock = new ManualClock();
  const queue = new TestQueue();
  const state = { taking };
  const hold = new InputHold({ overflow, queue, clock, shipper: state });
  const done: string[] = [];
  const write = (name: string): void => hold.afterWrite(() => done.push(name));
  const settle = (): Promise<void> => new Promise((resolve) => queueMicrotask(resolve));
  return { clock, queue, state, hold, done, write, settle };
}

describe('InputHold', () => {
  it('completes a write at once while the queue has room', () => {
    const { done, write } = setup('drop-oldest');
    write('w1');
    expect(done).toEqual(['w1']);
  });

  it("'block' holds a write on a full queue until release, whoever is taking records", async () => {
    const t = setup('block', false);
    t.queue.bytes = 100;
    t.write('w1');
    expect(t.done).toEqual([]);
    expect(t.hold.holding).toBe(false); // 'block' never lets the queue go over its bound
    t.hold.release();
    await t.settle();
    expect(t.done).toEqual(['w1']);
    expect(t.queue.trims).toBe(0);
  });

  it('a drop policy holds while a session takes records, then trims after HOLD_LIMIT_MS', async () => {
    const t = setup('drop-newest');
    t.queue.bytes = 100;
    expect(t.hold.holding).toBe(true);
    t.write('w1');
    t.clock.advance(HOLD_LIMIT_MS - 1);
    await t.settle();
    expect(t.done).toEqual([]);
    t.clock.advance(1);
    await t.settle();
    expect(t.done).toEqual(['w1']);
    expect(t.queue.trims).toBe(1);
    // Ran out: the policy applies (no holding) until the queue is half empty again.
    expect(t.hold.holding).toBe(false);
    t.queue.bytes = 50;
    t.hold.check();
    expect(t.hold.holding).toBe(true);
  });

  it('progress gives a hold HOLD_LIMIT_MS more; a change without progress does not', async () => {
    const t = setup('drop-oldest');
    t.queue.bytes = 100;
    t.write('w1');
    t.clock.advance(HOLD_LIMIT_MS - 100);
    t.hold.check(true); // the collector acknowledged: the burst is moving
    t.clock.advance(HOLD_LIMIT_MS - 100);
    await t.settle();
    expect(t.done).toEqual([]);
    t.hold.check(); // a status change, no progress: no more time
    t.clock.advance(100);
    await t.settle();
    expect(t.done).toEqual(['w1']);
    expect(t.queue.trims).toBe(1);
  });

  it('a hold lasts HOLD_MAX_MS at most, however steady the progress', async () => {
    const t = setup('drop-newest');
    t.queue.bytes = 100;
    t.write('w1');
    for (let at = 0; at < HOLD_MAX_MS - 200; at += 200) {
      t.clock.advance(200);
      t.hold.check(true);
    }
    await t.settle();
    expect(t.done).toEqual([]);
    t.clock.advance(200);
    await t.settle();
    expect(t.done).toEqual(['w1']);
    expect(t.queue.trims).toBe(1);
  });

  it('a drop policy does not hold when no session takes records, and a held write goes once none does', async () => {
    const t = setup('drop-oldest', false);
    t.queue.bytes = 100;
    t.write('w1');
    expect(t.done).toEqual(['w1']);
    t.state.taking = true;
    t.write('w2');
    expect(t.done).toEqual(['w1']);
    t.state.taking = false;
    t.hold.check();
    await t.settle();
    expect(t.done).toEqual(['w1', 'w2']);
    expect(t.queue.trims).toBe(1);
  });

  it('lets everything through once ended, trimming nothing, and the queue keeps it all', async () => {
    const t = setup('drop-oldest');
    t.queue.bytes = 100;
    t.write('w1');
    t.hold.end();
    await t.settle();
    expect(t.done).toEqual(['w1']);
    t.write('w2');
    expect(t.done).toEqual(['w1', 'w2']);
    // Closing: the queue keeps what comes in over its bound (delivered or reported, not dropped).
    expect(t.hold.holding).toBe(true);
    expect(t.queue.trims).toBe(0);
    expect(t.clock.pending).toBe(0);
  });
});
