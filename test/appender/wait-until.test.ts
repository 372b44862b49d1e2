import { describe, expect, it } from 'vitest';
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
  it('ends the wait when the promise settles, failure included', async () => {
    await withTimeout(Promise.reject(new Error('stop failed')), 10_000);
    await withTimeout(Promise.resolve(), 10_000);
  });

  it('ends the wait after ms when the promise never settles', async () => {
    await withTimeout(new Promise<void>(() => {}), 1);
  });
});
