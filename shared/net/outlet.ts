import type { Messenger } from './messenger.js';
import type { RateLimit } from './rate-limit.js';
import type { Timers } from './timers.js';

/**
 * The one send loop (issue #3 points 4 and 5): moves what a source has to the link of the moment
 * while the link takes it and the rate limit allows. Every sender feeds it — the session's window
 * of EVENTS, the UDP and NDJSON record queues, the permanent client's held messages — through
 * the permanent client, which owns the one outlet of its link.
 *
 *   source ──nextCost──▶ [rate limit: wait on a timer] ──writeNext──▶ messenger ──▶ link
 *                                                                    │ full
 *                                           link 'drain' ◀───────────┘ (pump again)
 *
 * Nothing is taken from the source until it is written: a source bound to one session (the
 * window) leaves nothing behind in the outlet when its link goes.
 */

/** What an outlet sends from; it decides what is next and how it goes on the wire. */
export interface OutletSource {
  /** The bytes the next item costs against the rate limit; undefined when nothing may go now. */
  nextCost(): number | undefined;
  /** Takes the next item off and writes it to `messenger`; false when the link is now full. */
  writeNext(messenger: Messenger): boolean;
  /** After a pump that wrote `written` items (0 included), with the link `full` or not. */
  pumped?(written: number, full: boolean): void;
}

export interface OutletOptions {
  readonly rate: RateLimit | undefined;
  readonly timers: Timers;
  /** The name of its rate-limit timer in `timers`. */
  readonly timer: string;
  /** False while the link may not be written to (its handshake, a pause). */
  readonly writable: () => boolean;
}

export class Outlet {
  readonly #options: OutletOptions;
  readonly #source: OutletSource;
  #messenger: Messenger | undefined;
  #full = false;

  constructor(source: OutletSource, options: OutletOptions) {
    this.#source = source;
    this.#options = options;
  }

  /** The link said it could take no more: nothing goes until its 'drain'. */
  get full(): boolean {
    return this.#full;
  }

  /** True while waiting on the rate limit's timer. */
  get waiting(): boolean {
    return this.#options.timers.has(this.#options.timer);
  }

  /** The link of a new attempt, written to once `writable`; its 'drain' pumps again. */
  attach(messenger: Messenger): void {
    this.#messenger = messenger;
    this.#full = false;
    messenger.on('drain', () => {
      if (messenger !== this.#messenger) return;
      this.#full = false;
      if (!this.waiting) this.pump();
    });
  }

  /** The link is gone; a rate wait is cancelled. */
  detach(): void {
    this.#messenger = undefined;
    this.#full = false;
    this.#options.timers.clear(this.#options.timer);
  }

  /** Something else filled the link (a heartbeat written past the outlet). */
  markFull(): void {
    this.#full = true;
  }

  /** Writes what the source has while the link and the rate limit allow. */
  pump(): void {
    const messenger = this.#messenger;
    if (messenger === undefined || !this.#options.writable()) return;
    const { rate, timers, timer } = this.#options;
    const source = this.#source;
    let written = 0;
    while (!this.#full) {
      const cost = source.nextCost();
      if (cost === undefined) break;
      if (rate !== undefined) {
        const delay = rate.delayFor(cost);
        if (delay > 0) {
          timers.set(timer, delay, () => this.pump());
          break;
        }
        rate.take(cost);
      }
      written += 1;
      if (!source.writeNext(messenger)) this.#full = true;
    }
    source.pumped?.(written, this.#full);
  }
}
