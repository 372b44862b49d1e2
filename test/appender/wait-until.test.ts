import { afterEach, describe, expect, it, vi } from 'vitest';
import { Conditions, withTimeout } from '../../appender/wait-until.js';
import { ManualClock } from '../../shared/net/clock.js';

describe('Conditions', () => {
  it('resolves true at once when the condition holds, and when a check finds it later', async () => {
    const clock = new ManualClock();
    const conditions = new Conditions(clock);
    let value = 0;
    expect(await conditions.waitFor(() => true, 10)).toBe(true);
    const waiting = conditions.waitFor(() => value === 2, 1000);
    value = 1;
    conditions.check();
    value = 2;
    conditions.check();
    expect(await waiting).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('resolves false after the time limit, and forgets the waiter', async () => {
    const clock = new ManualClock();
    const conditions = new Conditions(clock);
    let calls = 0;
    const waiting = conditions.waitFor(() => {
      calls += 1;
      return false;
    }, 50);
    clock.advance(50);
    expect(await waiting).toBe(false);
    const before = calls;
    conditions.check();
    expect(calls).toBe(before);
  });
});

describe('withTimeout', () => {
  /** Whether `promise` has settled once pending callbacks (microtasks and ready I/O) have run. */
  async function settled(promise: Promise<void>): Promise<boolean> {
    let done = false;
    void promise.then(() => {
      done = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    return done;
  }

  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits while the promise is pending, and ends when it settles, failure included', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    for (const outcome of ['resolve', 'reject'] as const) {
      let settle!: () => void;
      const work = new Promise<void>((resolve, reject) => {
        settle = outcome === 'resolve' ? resolve : () => reject(new Error('stop failed'));
      });
      const waiting = withTimeout(work, 10_000);
      expect(await settled(waiting), outcome).toBe(false);
      settle();
      expect(await settled(waiting), outcome).toBe(true);
      await expect(waiting).resolves.toBeUndefined();
      // Its timer went with it: nothing is left to keep the process alive.
      expect(vi.getTimerCount(), outcome).toBe(0);
    }
  });

  it('ends the wait after ms when the promise never settles, and not before', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const waiting = withTimeout(new Promise<void>(() => {}), 1000);
    vi.advanceTimersByTime(999);
    expect(await settled(waiting)).toBe(false);
    vi.advanceTimersByTime(1);
    expect(await settled(waiting)).toBe(true);
  });
});
