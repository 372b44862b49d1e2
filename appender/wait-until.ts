import { type Clock, systemClock } from '../shared/net/clock.js';

/**
 * Promises that resolve once a condition holds, or after a time limit: `flush` and closing wait
 * on the appender's counters, which `check` re-reads after every change.
 */
export class Conditions {
  readonly #clock: Clock;
  readonly #waiters = new Set<() => void>();

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  /** Resolves to true once `done()` holds, or to false after `ms`. */
  waitFor(done: () => boolean, ms: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (done()) finish(true);
      };
      const finish = (ok: boolean): void => {
        this.#waiters.delete(check);
        this.#clock.clearTimeout(timer);
        resolve(ok);
      };
      const timer = this.#clock.setTimeout(() => finish(false), ms);
      this.#waiters.add(check);
    });
  }

  /** Something changed: every waiter looks again. */
  check(): void {
    for (const waiter of this.#waiters) waiter();
  }
}

/** Waits for `promise` at most `ms`; its failure only ends the wait. */
export function withTimeout(promise: Promise<void>, ms: number, clock: Clock = systemClock): Promise<void> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(resolve, ms);
    const done = (): void => {
      clock.clearTimeout(timer);
      resolve();
    };
    promise.then(done, done);
  });
}
