/**
 * The collector's one clock: the shared Clock's timers and monotonic `now()` (durations), plus
 * `date()`, milliseconds since the epoch, for what is written down (the date in an output path,
 * a rejected line's time, when a source was last seen). Every part takes it from the wiring,
 * so a test drives all of them with one ManualClock.
 */

import { type Clock, createSystemClock, type TimerHandle } from '../shared/net/clock.js';

export interface CollectorClock extends Clock {
  /** ms since the epoch: for dates, not durations. */
  date(): number;
}

/** Over `base` (default: real timers that do not keep the process alive; listeners do that). */
export function collectorClock(
  base: Clock = createSystemClock({ unref: true }),
  date: () => number = Date.now,
): CollectorClock {
  return Object.freeze({
    now: () => base.now(),
    setTimeout: (fn: () => void, ms: number): TimerHandle => base.setTimeout(fn, ms),
    clearTimeout: (handle: TimerHandle): void => base.clearTimeout(handle),
    date,
  });
}

/** Runs `fn` every `ms` on `clock` (one timer at a time); returns what cancels it. */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let handle: TimerHandle | undefined;
  let cancelled = false;
  const arm = (): void => {
    handle = clock.setTimeout(() => {
      if (cancelled) return;
      arm();
      fn();
    }, ms);
  };
  arm();
  return () => {
    cancelled = true;
    if (handle !== undefined) clock.clearTimeout(handle);
  };
}
