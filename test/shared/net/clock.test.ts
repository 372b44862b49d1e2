import { describe, expect, it } from 'vitest';
import { createSystemClock, ManualClock, systemClock } from '../../../shared/net/clock.js';

describe('ManualClock', () => {
  it('starts at the given time and moves only on advance', () => {
    const clock = new ManualClock(500);
    expect(clock.now()).toBe(500);
    clock.advance(20);
    expect(clock.now()).toBe(520);
  });

  it('runs due timers in order of due time, then of creation, each at its own time', () => {
    const clock = new ManualClock();
    const log: string[] = [];
    clock.setTimeout(() => log.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => log.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => log.push(`c@${clock.now()}`), 20);
    clock.setTimeout(() => log.push(`late@${clock.now()}`), 31);
    clock.advance(30);
    expect(log).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.now()).toBe(30);
    expect(clock.pending).toBe(1);
  });

  it('runs timers set by callbacks within the advanced span', () => {
    const clock = new ManualClock();
    const log: number[] = [];
    const tick = () => {
      log.push(clock.now());
      clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    clock.advance(45);
    expect(log).toEqual([10, 20, 30, 40]);
  });

  it('treats a negative or NaN delay as 0', () => {
    const clock = new ManualClock();
    let runs = 0;
    clock.setTimeout(() => runs++, -5);
    clock.setTimeout(() => runs++, Number.NaN);
    clock.advance(0);
    expect(runs).toBe(2);
  });

  it('does not run a cleared timer', () => {
    const clock = new ManualClock();
    let runs = 0;
    const handle = clock.setTimeout(() => runs++, 5);
    clock.clearTimeout(handle);
    clock.advance(10);
    expect(runs).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('advanceToNext jumps to the next timer', () => {
    const clock = new ManualClock();
    const log: number[] = [];
    clock.setTimeout(() => log.push(clock.now()), 300);
    clock.setTimeout(() => log.push(clock.now()), 100);
    expect(clock.advanceToNext()).toBe(true);
    expect(log).toEqual([100]);
    expect(clock.advanceToNext()).toBe(true);
    expect(log).toEqual([100, 300]);
    expect(clock.advanceToNext()).toBe(false);
  });

  it('stops a callback that reschedules itself at 0 ms forever', () => {
    const clock = new ManualClock();
    const spin = () => clock.setTimeout(spin, 0);
    clock.setTimeout(spin, 0);
    expect(() => clock.advance(1)).toThrow(/without time passing/);
  });
});

describe('systemClock', () => {
  it('fires a real timer and can clear one', async () => {
    const clock = createSystemClock({ unref: true });
    let cleared = false;
    const handle = clock.setTimeout(() => {
      cleared = true;
    }, 0);
    clock.clearTimeout(handle);
    const before = systemClock.now();
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 1));
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
    expect(cleared).toBe(false);
  });
});
