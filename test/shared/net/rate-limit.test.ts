import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogwireError } from '../../../shared/errors.js';
import { ManualClock } from '../../../shared/net/clock.js';
import { parseRateLimit, RateLimit } from '../../../shared/net/rate-limit.js';

/** Sends `sizes` as fast as the limit allows; returns when each one went. */
function send(limit: RateLimit, clock: ManualClock, sizes: readonly number[]): number[] {
  const times: number[] = [];
  for (const size of sizes) {
    for (let wait = limit.delayFor(size); wait > 0; wait = limit.delayFor(size)) clock.advance(wait);
    limit.take(size);
    times.push(clock.now());
  }
  return times;
}

describe('RateLimit', () => {
  it('starts with a full bucket', () => {
    const clock = new ManualClock();
    const limit = new RateLimit({ bytes: 1000, perMs: 100 }, clock);
    expect(limit.delayFor(1000)).toBe(0);
    limit.take(600);
    expect(limit.delayFor(400)).toBe(0);
    expect(limit.delayFor(401)).toBe(1);
  });

  it('refills at bytes per perMs', () => {
    const clock = new ManualClock();
    const limit = new RateLimit({ bytes: 1000, perMs: 100 }, clock);
    limit.take(1000);
    expect(limit.delayFor(500)).toBe(50);
    clock.advance(20);
    expect(limit.delayFor(500)).toBe(30);
    clock.advance(30);
    expect(limit.delayFor(500)).toBe(0);
  });

  it('gives exact delays for uneven rates', () => {
    const clock = new ManualClock();
    const limit = new RateLimit(parseRateLimit('65536/1000'), clock);
    limit.take(65536);
    expect(limit.delayFor(65536)).toBe(1000);
    clock.advance(1000);
    expect(limit.delayFor(65536)).toBe(0);
  });

  it('lets a message larger than the bucket go after a full bucket, and later ones wait out the debt', () => {
    const clock = new ManualClock();
    const limit = new RateLimit({ bytes: 100, perMs: 10 }, clock);
    limit.take(50);
    expect(limit.delayFor(1000)).toBe(5);
    expect(send(limit, clock, [1000, 100])).toEqual([5, 5 + 90 + 10]);
  });

  it('does not let an idle period bank more than one bucket', () => {
    const clock = new ManualClock();
    const limit = new RateLimit({ bytes: 100, perMs: 10 }, clock);
    clock.advance(1_000_000);
    expect(send(limit, clock, [100, 100])).toEqual([1_000_000, 1_000_010]);
  });

  it('never sends more than one bucket plus the rate over any run', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.integer({ min: 0, max: 8000 }), { minLength: 1, maxLength: 40 }),
        (bytes, perMs, sizes) => {
          const clock = new ManualClock();
          const limit = new RateLimit({ bytes, perMs }, clock);
          const times = send(limit, clock, sizes);
          // Everything but the last message had left by the last send time.
          const before = sizes.slice(0, -1).reduce((a, b) => a + b, 0);
          const last = times.at(-1) ?? 0;
          expect(before).toBeLessThanOrEqual(bytes + (last * bytes) / perMs);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('parseRateLimit', () => {
  it('accepts an object or "BYTES/MS" and returns a frozen object', () => {
    const parsed = parseRateLimit(' 65536 / 1000 ');
    expect(parsed).toEqual({ bytes: 65536, perMs: 1000 });
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(parseRateLimit({ bytes: 10, perMs: 1 })).toEqual({ bytes: 10, perMs: 1 });
  });

  it.each<[unknown, RegExp]>([
    [
      '65536',
      /^output\.rate must be \{ bytes, perMs \} or "BYTES\/MS" such as "65536\/1000".*; got "65536"$/,
    ],
    ['1.5/1000', /got "1\.5\/1000"/],
    [42, /got 42/],
    [[1, 2], /got 1,2/],
    [{ bytes: 0, perMs: 1 }, /^output\.rate\.bytes must be a whole number of bytes, at least 1; got 0$/],
    [{ bytes: 10 }, /output\.rate\.perMs must be a whole number of milliseconds, at least 1; got undefined/],
    [{ bytes: 1.5, perMs: 1 }, /output\.rate\.bytes must be a whole number/],
    ['0/1000', /output\.rate\.bytes must be a whole number/],
    [{ bytes: 1, perMs: 1, per: 1 }, /^output\.rate\.per is not an option; the keys are bytes and perMs$/],
    [{ bytes: 2 ** 40, perMs: 2 ** 20 }, /is too large/],
  ])('rejects %j naming the option path', (input, why) => {
    let error: LogwireError | undefined;
    try {
      parseRateLimit(input, 'output.rate');
    } catch (err) {
      error = err as LogwireError;
    }
    expect(error?.code).toBe('LW_ERR_BAD_OPTION');
    expect(error?.message).toMatch(why);
  });

  it('is applied by the constructor too', () => {
    expect(() => new RateLimit({ bytes: -1, perMs: 1 })).toThrow(/^rateLimit\.bytes/);
  });
});
