import { LogwireError } from '../errors.js';
import { type Clock, systemClock } from './clock.js';

/**
 * An optional send rate limit, "X bytes per N ms" (issue #3), as a token bucket that holds
 * `bytes` and refills at bytes/perMs. It starts full. A message larger than the bucket waits
 * for a full bucket and then goes, leaving a debt that later messages wait out: no deadlock,
 * and the average rate still holds.
 */

export interface RateLimitOptions {
  readonly bytes: number;
  readonly perMs: number;
}

export class RateLimit {
  readonly #bytes: number;
  readonly #perMs: number;
  readonly #clock: Clock;
  // Credit is kept in byte·ms (bytes × perMs) so that integer clocks give exact delays.
  readonly #capacity: number;
  #credit: number;
  #last: number;

  constructor(opts: RateLimitOptions, clock: Clock = systemClock) {
    const { bytes, perMs } = parseRateLimit(opts);
    this.#bytes = bytes;
    this.#perMs = perMs;
    this.#clock = clock;
    this.#capacity = bytes * perMs;
    this.#credit = this.#capacity;
    this.#last = clock.now();
  }

  /** Milliseconds to wait before `bytes` may go; 0 when they may go now. */
  delayFor(bytes: number): number {
    this.#refill();
    const need = Math.min(Math.max(bytes, 0), this.#bytes) * this.#perMs;
    const missing = need - this.#credit;
    return missing <= 0 ? 0 : Math.ceil(missing / this.#bytes);
  }

  /** Spends `bytes`; always succeeds, running into debt when called before `delayFor` says 0. */
  take(bytes: number): void {
    this.#refill();
    this.#credit -= Math.max(bytes, 0) * this.#perMs;
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = now - this.#last;
    this.#last = now;
    if (elapsed > 0) this.#credit = Math.min(this.#capacity, this.#credit + elapsed * this.#bytes);
  }
}

const FORM = 'must be { bytes, perMs } or "BYTES/MS" such as "65536/1000" (bytes per milliseconds)';

/** Checks a rate limit given as options; `path` names the option in errors. Returns a frozen object. */
export function parseRateLimit(input: unknown, path = 'rateLimit'): RateLimitOptions {
  let bytes: unknown;
  let perMs: unknown;
  if (typeof input === 'string') {
    const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(input);
    if (!match) throw badOption(path, `${FORM}; got ${JSON.stringify(input)}`);
    bytes = Number(match[1]);
    perMs = Number(match[2]);
  } else if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const fields = input as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      if (key !== 'bytes' && key !== 'perMs') {
        throw badOption(`${path}.${key}`, 'is not an option; the keys are bytes and perMs');
      }
    }
    bytes = fields.bytes;
    perMs = fields.perMs;
  } else {
    throw badOption(path, `${FORM}; got ${String(input)}`);
  }
  checkPositiveInteger(bytes, `${path}.bytes`, 'bytes');
  checkPositiveInteger(perMs, `${path}.perMs`, 'milliseconds');
  if (bytes * perMs > Number.MAX_SAFE_INTEGER) {
    throw badOption(path, `(${bytes} bytes per ${perMs} ms) is too large; use a shorter period`);
  }
  return Object.freeze({ bytes, perMs });
}

function checkPositiveInteger(value: unknown, path: string, unit: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw badOption(path, `must be a whole number of ${unit}, at least 1; got ${String(value)}`);
  }
}

function badOption(path: string, problem: string): LogwireError {
  return new LogwireError('LW_ERR_BAD_OPTION', `${path} ${problem}`);
}
