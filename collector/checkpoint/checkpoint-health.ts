import { LogwireError } from '../../shared/errors.js';
import type { CollectorLog } from '../config/config-types.js';

/**
 * Whether the checkpoint can be saved, and the retries while it cannot.
 *
 * No ACK may leave before the checkpoint that covers it is saved, so when the state directory
 * refuses writes (a failing disk, a read-only remount, an immutable flag) the writer holds the
 * tick and its ACKs, input backs up (PAUSE), and this retries with backoff until a save goes
 * through; then everything resumes on its own. STATUS says `degraded` with the reason meanwhile;
 * the log says so once when it starts and once when it ends. A stopping collector gives up
 * (`giveUp`): one last try, then the tick fails unacknowledged.
 *
 *   healthy ──failed──▶ degraded ──saved──▶ healthy
 */

export type CheckpointHealthState = 'healthy' | 'degraded';
type HealthEvent = 'saved' | 'failed';

const TRANSITIONS = {
  healthy: { saved: 'healthy', failed: 'degraded' },
  degraded: { saved: 'healthy', failed: 'degraded' },
} as const satisfies Record<CheckpointHealthState, Record<HealthEvent, CheckpointHealthState>>;

/** The first wait after a failed save, doubled after each failure up to the longest. */
export const FIRST_RETRY_MS = 100;
export const LONGEST_RETRY_MS = 2000;

export interface RetryTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_TIMERS: RetryTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface CheckpointHealthOptions {
  readonly log: Pick<CollectorLog, 'warn' | 'info'>;
  /** ms since the epoch (how long a degraded spell lasted). */
  readonly now?: () => number;
  readonly timers?: RetryTimers;
}

export class CheckpointHealth {
  #state: CheckpointHealthState = 'healthy';
  #reason: string | undefined;
  #since = 0;
  #givingUp = false;
  /** Ends the current wait early (giveUp). */
  #wake: (() => void) | undefined;
  readonly #log: CheckpointHealthOptions['log'];
  readonly #now: () => number;
  readonly #timers: RetryTimers;

  constructor(options: CheckpointHealthOptions) {
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? REAL_TIMERS;
  }

  get state(): CheckpointHealthState {
    return this.#state;
  }

  /** Why the last save failed, while degraded. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /**
   * Runs `attempt` (a save) until it succeeds, waiting FIRST_RETRY_MS, then twice as long each
   * time up to LONGEST_RETRY_MS, between failures. After giveUp(), a failure rejects instead.
   * A closed checkpoint (LW_ERR_CLOSED) rejects at once: nothing can be saved any more.
   */
  async untilSaved(attempt: () => Promise<void>): Promise<void> {
    let delay = FIRST_RETRY_MS;
    for (;;) {
      try {
        await attempt();
        this.#on('saved');
        return;
      } catch (error) {
        if (error instanceof LogwireError && error.code === 'LW_ERR_CLOSED') throw error;
        this.#on('failed', error);
        if (this.#givingUp) throw error;
      }
      await this.#wait(delay);
      delay = Math.min(delay * 2, LONGEST_RETRY_MS);
    }
  }

  /** From now on a failed save is not retried: the wait under way ends, one last try follows. */
  giveUp(): void {
    this.#givingUp = true;
    this.#wake?.();
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.#timers.setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        this.#timers.clearTimeout(handle);
        this.#wake = undefined;
        resolve();
      };
    });
  }

  #on(event: HealthEvent, error?: unknown): void {
    const from = this.#state;
    const to = TRANSITIONS[from][event];
    this.#state = to;
    if (event === 'failed') this.#reason = error instanceof Error ? error.message : String(error);
    if (from === to) return;
    if (to === 'degraded') {
      this.#since = this.#now();
      this.#log.warn(
        `checkpoint cannot be saved: acknowledgements wait until it can (retrying): ${this.#reason}`,
      );
    } else {
      this.#log.info(`checkpoint saved again after ${this.#now() - this.#since} ms: acknowledgements resume`);
      this.#reason = undefined;
    }
  }
}
