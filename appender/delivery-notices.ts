import type { Clock, TimerHandle } from '../shared/net/clock.js';
import type { ClientStatus } from '../shared/net/permanent-client.js';

/**
 * What the appender says on stderr while it cannot deliver, so that no wait is silent:
 *
 *   reachable ──disconnected──▶ failing ──(UNREACHABLE_WARN_MS)──▶ warned: "unreachable …"
 *       ▲                         │                                  │
 *       └────────connected────────┘◀──────connected: "reachable again"┘
 *
 * and, once, when closing has to wait for a collector that is not connected (or paused):
 * "waiting up to N ms for …", at once rather than after the wait.
 */

/** How long the collector stays unreachable before the one warning while running. */
export const UNREACHABLE_WARN_MS = 5000;

type Reachability = 'reachable' | 'failing' | 'warned';
type Event = 'disconnected' | 'connected' | 'timer';

const TRANSITIONS: Record<Reachability, Partial<Record<Event, Reachability>>> = {
  reachable: { disconnected: 'failing' },
  failing: { connected: 'reachable', timer: 'warned' },
  warned: { connected: 'reachable' },
};

export interface DeliveryNoticesOptions {
  readonly clock: Clock;
  readonly stderr: (line: string) => void;
  /** The collector's address(es), e.g. `tcp/127.0.0.1:4043`. */
  readonly address: string;
  /** Records held and not yet delivered. */
  readonly waiting: () => number;
  /** True when closing has nothing left to wait for. */
  readonly delivered: () => boolean;
  /** Why the collector is not taking records when it said so itself (it could not write), if it did. */
  readonly refusal?: () => string | undefined;
}

export class DeliveryNotices {
  readonly #options: DeliveryNoticesOptions;
  #state: Reachability = 'reachable';
  #since = 0;
  #lastError: string | undefined;
  #timer: TimerHandle | undefined;
  /** Set once closing began: the ms it may wait. */
  #closeTimeout: number | undefined;
  #waitSaid = false;
  #latest: ClientStatus['state'] | undefined;

  constructor(options: DeliveryNoticesOptions) {
    this.#options = options;
  }

  /** Every status of the connection, in order. */
  status(status: ClientStatus): void {
    this.#latest = status.state;
    if (status.state === 'disconnected') {
      if (status.error !== undefined) this.#lastError = status.error.message;
      this.#go('disconnected');
    } else if (status.state === 'connected') {
      this.#go('connected');
    }
    this.#sayWaiting();
  }

  /** Closing began and may wait up to `closeTimeout` ms for delivery. */
  closing(closeTimeout: number): void {
    this.#closeTimeout = closeTimeout;
    this.#clearTimer();
    this.#sayWaiting();
  }

  /** No more lines (closed, or the process is exiting). */
  stop(): void {
    this.#closeTimeout = undefined;
    this.#waitSaid = true;
    this.#clearTimer();
  }

  #go(event: Event): void {
    const from = this.#state;
    const to = TRANSITIONS[from][event];
    if (to === undefined) return;
    this.#state = to;
    const { clock, stderr, address } = this.#options;
    if (to === 'failing') {
      this.#since = clock.now();
      // Closing says so itself, at once: no warning that would only repeat it.
      if (this.#closeTimeout === undefined)
        this.#timer = clock.setTimeout(() => this.#go('timer'), UNREACHABLE_WARN_MS);
    } else if (to === 'warned') {
      this.#timer = undefined;
      stderr(
        `logwire appender: collector ${address} unreachable for ${seconds(clock.now() - this.#since)}` +
          `${this.#lastError === undefined ? '' : ` (${this.#lastError})`}; ` +
          `${this.#options.waiting()} records waiting, still trying\n`,
      );
    } else {
      this.#clearTimer();
      if (from === 'warned')
        stderr(
          `logwire appender: collector ${address} reachable again after ${seconds(clock.now() - this.#since)}\n`,
        );
    }
  }

  /** While closing, once: the wait is for a collector that is not taking records. */
  #sayWaiting(): void {
    const closeTimeout = this.#closeTimeout;
    // A closeTimeout of 0 waits for nothing: there is no wait to announce.
    if (closeTimeout === undefined || closeTimeout === 0 || this.#waitSaid) return;
    const why =
      this.#latest === 'paused'
        ? 'paused'
        : this.#latest === 'disconnected'
          ? (this.#options.refusal?.() ??
            `not connected${this.#lastError === undefined ? '' : `: ${this.#lastError}`}`)
          : undefined;
    if (why === undefined || this.#options.delivered()) return;
    this.#waitSaid = true;
    this.#options.stderr(
      `logwire appender: waiting up to ${closeTimeout} ms (closeTimeout) for collector ` +
        `${this.#options.address} (${why}) to take ${this.#options.waiting()} records\n`,
    );
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
