/**
 * `rate_limit` on a listener: each connection may send at most "BYTES/MS" (a token bucket,
 * shared/net/rate-limit.ts). A peer over its rate is held back, not cut off: the collector
 * stops reading its socket (the kernel's buffers fill and TCP slows the sender) until the
 * bucket has paid off what was read, then reads again. Nothing it sent is dropped.
 *
 *   reading ──bytes put the bucket in debt──▶ held ──debt paid (clock)──▶ reading
 *      ▲                                       │
 *      └──────────────── closed ◀──────────────┘ (link gone: the timer is cleared)
 */

import type { Clock, TimerHandle } from '../../shared/net/clock.js';
import { RateLimit, type RateLimitOptions } from '../../shared/net/rate-limit.js';

type IngestState = 'reading' | 'held' | 'closed';
type IngestEvent = 'over' | 'paid' | 'close';

const TRANSITIONS: Readonly<Record<IngestState, Partial<Record<IngestEvent, IngestState>>>> = {
  reading: { over: 'held', close: 'closed' },
  held: { paid: 'reading', close: 'closed' },
  closed: {},
};

export interface IngestRateHooks {
  /** Stop reading the connection (link.pauseReading, through the collector's read gate). */
  readonly hold: () => void;
  /** Read it again. */
  readonly release: () => void;
  /** Told each time the connection is held back, for the metrics. */
  readonly onHeld?: () => void;
}

export class IngestRate {
  readonly #bucket: RateLimit;
  readonly #clock: Clock;
  readonly #hooks: IngestRateHooks;
  #state: IngestState = 'reading';
  #timer: TimerHandle | undefined;

  constructor(limit: RateLimitOptions, clock: Clock, hooks: IngestRateHooks) {
    this.#bucket = new RateLimit(limit, clock);
    this.#clock = clock;
    this.#hooks = hooks;
  }

  get state(): IngestState {
    return this.#state;
  }

  /** Bytes just read from the connection (they are kept and handled whatever the rate). */
  received(bytes: number): void {
    if (this.#state === 'closed') return;
    this.#bucket.take(bytes);
    if (this.#state === 'held') return;
    const wait = this.#bucket.delayFor(0);
    if (wait <= 0) return;
    this.#move('over');
    this.#hooks.hold();
    this.#hooks.onHeld?.();
    this.#timer = this.#clock.setTimeout(() => this.#paid(), wait);
  }

  /** The connection ended. */
  close(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#move('close');
  }

  #paid(): void {
    this.#timer = undefined;
    if (this.#state !== 'held') return;
    // Chunks already on their way while reading stopped may have added debt: wait that out too.
    const wait = this.#bucket.delayFor(0);
    if (wait > 0) {
      this.#timer = this.#clock.setTimeout(() => this.#paid(), wait);
      return;
    }
    this.#move('paid');
    this.#hooks.release();
  }

  #move(event: IngestEvent): void {
    const next = TRANSITIONS[this.#state][event];
    if (next !== undefined) this.#state = next;
  }
}
