import { LogwireError } from '../errors.js';
import { MAX_TIMER_MS } from './clock.js';

/**
 * Delays between reconnect attempts (issue #3): a list whose last step repeats, as
 * eventdispatcher's clients do, or an exponential curve; both jittered. Milliseconds throughout
 * (INTERFACES.md), so eventdispatcher's "1,1,1,3,5,10,20,30,60" seconds is DEFAULT_BACKOFF here.
 */

export interface ExponentialBackoff {
  readonly initial: number;
  readonly max: number;
  readonly factor: number;
  /** Overrides the Backoff's jitter for this curve. */
  readonly jitter?: number;
}

export type BackoffSpec =
  /** A comma-separated list of milliseconds: "1000,1000,3000,5000". */
  | string
  | readonly number[]
  | ExponentialBackoff
  /** Delay before attempt `attempt` (0-based); used as returned, without jitter. */
  | ((attempt: number) => number);

export const DEFAULT_BACKOFF: readonly number[] = Object.freeze([
  1000, 1000, 1000, 3000, 5000, 10000, 20000, 30000, 60000,
]);

/** Each delay is shortened by up to this fraction, so peers that lost one server do not return in step. */
export const DEFAULT_JITTER = 0.2;

export const DEFAULT_EXPONENTIAL: ExponentialBackoff = Object.freeze({
  initial: 1000,
  max: 60000,
  factor: 2,
});

export interface BackoffOptions {
  /** Uniform in [0, 1); inject a constant for exact tests. Default Math.random. */
  readonly random?: () => number;
  /** 0..1, default DEFAULT_JITTER; 0 follows the schedule exactly. */
  readonly jitter?: number;
}

type Schedule = (attempt: number) => number;

/**
 * Yields the delay before each attempt. Jitter only ever shortens a delay (delay × (1 − jitter ×
 * random)), so the schedule, and `max`, are ceilings that are never exceeded.
 */
export class Backoff {
  readonly #schedule: Schedule;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(spec: BackoffSpec = DEFAULT_BACKOFF, opts: BackoffOptions = {}) {
    const checked = parseBackoff(spec);
    const jitter = opts.jitter ?? DEFAULT_JITTER;
    checkJitter(jitter, 'jitter');
    this.#random = opts.random ?? Math.random;
    if (typeof checked === 'function') {
      this.#schedule = checked;
      this.#jitter = 0;
    } else if (isList(checked)) {
      this.#schedule = (attempt) => checked[Math.min(attempt, checked.length - 1)] ?? 0;
      this.#jitter = jitter;
    } else {
      const { initial, max, factor } = checked;
      // factor ** attempt may overflow to Infinity: min() then gives max, but 0 × Infinity is NaN.
      this.#schedule = (attempt) => (initial === 0 ? 0 : Math.min(max, initial * factor ** attempt));
      this.#jitter = checked.jitter ?? jitter;
    }
  }

  /** Attempts counted since the last reset: how many delays `next` has given. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt, in whole milliseconds. */
  next(): number {
    const base = this.#schedule(this.#attempt++);
    const delay = Number.isFinite(base) && base > 0 ? Math.min(base, MAX_TIMER_MS) : 0;
    if (this.#jitter === 0) return Math.round(delay);
    const r = Math.min(Math.max(this.#random(), 0), 1);
    return Math.round(delay * (1 - this.#jitter * r));
  }

  /** Back to the first step, after a connection that held. */
  reset(): void {
    this.#attempt = 0;
  }
}

function isList(spec: readonly number[] | ExponentialBackoff): spec is readonly number[] {
  return Array.isArray(spec);
}

function badOption(path: string, problem: string): LogwireError {
  return new LogwireError('LW_ERR_BAD_OPTION', `${path} ${problem}`);
}

function checkDelay(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    throw badOption(path, `must be a number of milliseconds from 0 to ${MAX_TIMER_MS}, got ${show(value)}`);
  }
  return value;
}

function checkJitter(value: unknown, path: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw badOption(path, `must be a fraction from 0 to 1, got ${show(value)}`);
  }
  return value;
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

const FORMS =
  'must be a list of milliseconds ("1000,1000,3000" or [1000, 1000, 3000]) ' +
  'or { initial, max, factor, jitter? } in milliseconds';

/**
 * Checks a backoff given as options (plain data crossing a worker boundary, or TOML) and returns
 * it normalized: a frozen number list, a frozen exponential spec with defaults filled, or the
 * function as given. `path` names the option in errors ("reconnect.backoff").
 */
export function parseBackoff(
  input: unknown,
  path = 'backoff',
): readonly number[] | ExponentialBackoff | ((attempt: number) => number) {
  if (typeof input === 'function') return input as (attempt: number) => number;
  if (typeof input === 'string') {
    const parts = input.split(',').map((part) => part.trim());
    if (parts.some((part) => !/^\d+(\.\d+)?$/.test(part))) {
      throw badOption(path, `${FORMS}; got ${JSON.stringify(input)}`);
    }
    return parseBackoff(parts.map(Number), path);
  }
  if (Array.isArray(input)) {
    if (input.length === 0) throw badOption(path, `${FORMS}; got an empty list`);
    return Object.freeze(input.map((value, i) => checkDelay(value, `${path}[${i}]`)));
  }
  if (typeof input === 'object' && input !== null) return parseExponential(input, path);
  throw badOption(path, `${FORMS}; got ${show(input)}`);
}

function parseExponential(input: object, path: string): ExponentialBackoff {
  const fields = input as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!['initial', 'max', 'factor', 'jitter'].includes(key)) {
      throw badOption(`${path}.${key}`, 'is not an option; the keys are initial, max, factor and jitter');
    }
  }
  const initial = checkDelay(fields.initial ?? DEFAULT_EXPONENTIAL.initial, `${path}.initial`);
  const max = checkDelay(fields.max ?? Math.max(DEFAULT_EXPONENTIAL.max, initial), `${path}.max`);
  if (max < initial) throw badOption(`${path}.max`, `(${max}) must not be below initial (${initial})`);
  const factor = fields.factor ?? DEFAULT_EXPONENTIAL.factor;
  if (typeof factor !== 'number' || !(factor >= 1 && Number.isFinite(factor))) {
    throw badOption(`${path}.factor`, `must be a number of at least 1, got ${show(factor)}`);
  }
  if (fields.jitter === undefined) return Object.freeze({ initial, max, factor });
  const jitter = checkJitter(fields.jitter, `${path}.jitter`);
  return Object.freeze({ initial, max, factor, jitter });
}
