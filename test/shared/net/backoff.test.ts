import { describe, expect, it } from 'vitest';
import { LogwireError } from '../../../shared/errors.js';
import { Backoff, DEFAULT_BACKOFF, DEFAULT_JITTER, parseBackoff } from '../../../shared/net/backoff.js';

function take(backoff: Backoff, n: number): number[] {
  return Array.from({ length: n }, () => backoff.next());
}

function badOption(input: unknown, path?: string): LogwireError {
  try {
    parseBackoff(input, path);
  } catch (err) {
    expect((err as LogwireError).code).toBe('LW_ERR_BAD_OPTION');
    return err as LogwireError;
  }
  throw new Error('parseBackoff did not throw');
}

describe('Backoff', () => {
  describe('a list', () => {
    it('follows the default schedule, in milliseconds, and repeats its last step', () => {
      expect(DEFAULT_BACKOFF).toEqual([1000, 1000, 1000, 3000, 5000, 10000, 20000, 30000, 60000]);
      const backoff = new Backoff(undefined, { jitter: 0 });
      expect(take(backoff, 12)).toEqual([...DEFAULT_BACKOFF, 60000, 60000, 60000]);
    });

    it('takes a comma-separated string', () => {
      expect(take(new Backoff('10, 20,30', { jitter: 0 }), 5)).toEqual([10, 20, 30, 30, 30]);
    });

    it('counts attempts and starts over on reset', () => {
      const backoff = new Backoff([1, 2, 3], { jitter: 0 });
      expect(backoff.attempt).toBe(0);
      take(backoff, 2);
      expect(backoff.attempt).toBe(2);
      backoff.reset();
      expect(backoff.attempt).toBe(0);
      expect(take(backoff, 4)).toEqual([1, 2, 3, 3]);
    });
  });

  describe('exponential', () => {
    it('grows by factor up to max and stays there', () => {
      const backoff = new Backoff({ initial: 100, max: 1000, factor: 2 }, { jitter: 0 });
      expect(take(backoff, 7)).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    });

    it('stays at max long after factor ** attempt overflows', () => {
      const backoff = new Backoff({ initial: 1, max: 5000, factor: 10 }, { jitter: 0 });
      const delays = take(backoff, 400);
      expect(delays.at(-1)).toBe(5000);
      expect(delays.every((d) => Number.isInteger(d) && d <= 5000)).toBe(true);
    });

    it('gives 0 forever from initial 0', () => {
      expect(
        take(new Backoff({ initial: 0, max: 10, factor: 2 }, { jitter: 0 }), 400).every((d) => d === 0),
      ).toBe(true);
    });

    it('uses its own jitter over the option', () => {
      const backoff = new Backoff({ initial: 1000, max: 1000, factor: 1, jitter: 0.5 }, { random: () => 1 });
      expect(backoff.next()).toBe(500);
    });
  });

  describe('a function', () => {
    it('is called with the 0-based attempt and used without jitter', () => {
      const seen: number[] = [];
      const backoff = new Backoff(
        (attempt) => {
          seen.push(attempt);
          return attempt * 7;
        },
        { jitter: 1, random: () => 0.9 },
      );
      expect(take(backoff, 3)).toEqual([0, 7, 14]);
      expect(seen).toEqual([0, 1, 2]);
    });

    it('turns a negative or non-finite result into 0', () => {
      const values = [-5, Number.NaN, Number.POSITIVE_INFINITY];
      const backoff = new Backoff((attempt) => values[attempt] ?? 0);
      expect(take(backoff, 3)).toEqual([0, 0, 0]);
    });
  });

  describe('jitter', () => {
    it('defaults to 0.2 and only shortens a delay', () => {
      expect(DEFAULT_JITTER).toBe(0.2);
      expect(new Backoff([1000], { random: () => 0 }).next()).toBe(1000);
      expect(new Backoff([1000], { random: () => 0.5 }).next()).toBe(900);
      expect(new Backoff([1000], { random: () => 0.999999 }).next()).toBe(800);
    });

    it('stays within [delay × (1 − jitter), delay] for any random value', () => {
      let r = 0;
      const backoff = new Backoff({ initial: 100, max: 10_000, factor: 3 }, { jitter: 0.3, random: () => r });
      for (let i = 0; i < 50; i++) {
        r = (i * 0.137) % 1;
        const nominal = Math.min(10_000, 100 * 3 ** i);
        const delay = backoff.next();
        expect(delay).toBeGreaterThanOrEqual(Math.floor(nominal * 0.7));
        expect(delay).toBeLessThanOrEqual(nominal);
      }
    });

    it('clamps a random source that strays outside [0, 1)', () => {
      expect(new Backoff([1000], { random: () => 7 }).next()).toBe(800);
      expect(new Backoff([1000], { random: () => -3 }).next()).toBe(1000);
    });

    it('rejects a jitter outside 0..1', () => {
      expect(() => new Backoff([1], { jitter: 1.5 })).toThrow(/jitter must be a fraction from 0 to 1/);
    });
  });
});

describe('parseBackoff', () => {
  it('normalizes a string to a frozen list of numbers', () => {
    const list = parseBackoff('1000,1000,3000');
    expect(list).toEqual([1000, 1000, 3000]);
    expect(Object.isFrozen(list)).toBe(true);
  });

  it('fills the exponential defaults', () => {
    expect(parseBackoff({})).toEqual({ initial: 1000, max: 60000, factor: 2 });
    expect(parseBackoff({ initial: 90000 })).toEqual({ initial: 90000, max: 90000, factor: 2 });
    expect(parseBackoff({ initial: 5, max: 50, factor: 1.5, jitter: 0 })).toEqual({
      initial: 5,
      max: 50,
      factor: 1.5,
      jitter: 0,
    });
  });

  it('passes a function through', () => {
    const fn = (attempt: number) => attempt;
    expect(parseBackoff(fn)).toBe(fn);
  });

  it.each<[unknown, RegExp]>([
    ['', /must be a list of milliseconds .*; got ""/],
    ['1,x,3', /got "1,x,3"/],
    ['1,-3', /got "1,-3"/],
    [[], /got an empty list/],
    [[1, '2'], /^reconnect\.backoff\[1\] must be a number of milliseconds from 0 to 2147483647, got "2"$/],
    [[2 ** 31], /\[0\] must be a number of milliseconds from 0 to 2147483647/],
    [[Number.NaN], /\[0\] must be a number of milliseconds/],
    [42, /got 42/],
    [null, /got null/],
    [
      { inital: 5 },
      /^reconnect\.backoff\.inital is not an option; the keys are initial, max, factor and jitter$/,
    ],
    [{ initial: -1 }, /reconnect\.backoff\.initial must be a number of milliseconds/],
    [{ initial: 10, max: 5 }, /reconnect\.backoff\.max \(5\) must not be below initial \(10\)/],
    [{ factor: 0.5 }, /reconnect\.backoff\.factor must be a number of at least 1, got 0\.5/],
    [{ factor: '2' }, /factor must be a number of at least 1, got "2"/],
    [{ jitter: 2 }, /reconnect\.backoff\.jitter must be a fraction from 0 to 1, got 2/],
  ])('rejects %j naming the option path', (input, why) => {
    expect(badOption(input, 'reconnect.backoff').message).toMatch(why);
  });

  it('names "backoff" when no path is given', () => {
    expect(badOption('x').message).toMatch(/^backoff must be a list/);
  });

  it('is applied by the constructor too', () => {
    expect(() => new Backoff([-1])).toThrow(LogwireError);
  });
});
