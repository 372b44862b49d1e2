/**
 * Time as the networking code sees it, injected so tests drive timers instead of sleeping
 * (STYLE.md "State you can see", INTERFACES.md "Tests"). `now()` is monotonic milliseconds,
 * fit for durations and rates, not for timestamps.
 */

/** Opaque: only the clock that made it can clear it. */
export type TimerHandle = object;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Longest delay Node's setTimeout honours; a longer one would fire after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SystemClockOptions {
  /** Let the process exit while a timer is pending (e.g. a reconnect in an appender). Default false. */
  readonly unref?: boolean;
}

/** A clock over the real timers; delays are clamped to 0..MAX_TIMER_MS. */
export function createSystemClock(opts: SystemClockOptions = {}): Clock {
  const unref = opts.unref === true;
  return Object.freeze({
    now: () => performance.now(),
    setTimeout(fn: () => void, ms: number): TimerHandle {
      const timer = setTimeout(fn, clampDelay(ms));
      if (unref) timer.unref();
      return timer;
    },
    clearTimeout(handle: TimerHandle): void {
      clearTimeout(handle as NodeJS.Timeout);
    },
  });
}

/** Real timers that keep the process alive while pending. */
export const systemClock: Clock = createSystemClock();

function clampDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(ms, MAX_TIMER_MS);
}

interface ManualTimer {
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A clock for tests: time moves only through `advance`, which runs due timers in order of due
 * time, then of creation, including timers that callbacks set within the advanced span.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Set<ManualTimer>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { due: this.#now + clampDelay(ms), seq: this.#seq++, fn };
    this.#timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as ManualTimer);
  }

  /** Timers set and not yet run or cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, running every timer that falls due; a callback's throw propagates. */
  advance(ms: number): void {
    const target = this.#now + Math.max(0, ms);
    // A guard against a callback that keeps setting 0 ms timers.
    for (let runs = 0; runs < 1_000_000; runs++) {
      const timer = this.#earliest();
      if (!timer || timer.due > target) {
        this.#now = target;
        return;
      }
      this.#run(timer);
    }
    throw new Error('ManualClock.advance: timers keep rescheduling themselves without time passing');
  }

  /** Jumps to the earliest pending timer and runs it (and any due at that same instant). False if none. */
  advanceToNext(): boolean {
    const timer = this.#earliest();
    if (!timer) return false;
    this.advance(timer.due - this.#now);
    return true;
  }

  #earliest(): ManualTimer | undefined {
    let first: ManualTimer | undefined;
    for (const timer of this.#timers) {
      if (!first || timer.due < first.due || (timer.due === first.due && timer.seq < first.seq))
        first = timer;
    }
    return first;
  }

  #run(timer: ManualTimer): void {
    this.#timers.delete(timer);
    this.#now = timer.due;
    timer.fn();
  }
}
