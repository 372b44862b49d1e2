import type { Clock, TimerHandle } from '../shared/net/clock.js';
import type { OverflowPolicy } from '../shared/sender/record-queue.js';
import type { ShipperStatus } from './shipper.js';

/**
 * How long a full queue may hold pino's input back, while a session takes records, without the
 * collector making progress, before the drop policy applies. pino keeps what it could not hand
 * over in its own buffer meanwhile: a stalled collector costs the app at most this much logging.
 */
export const HOLD_LIMIT_MS = 1000;
/**
 * The longest a hold lasts even while the collector makes progress (a burst that arrives faster
 * than it acknowledges, on a busy machine). pino's buffer then grows by the app's rate less the
 * collector's, for at most this long: far below thread-stream's own limit at any usual rate.
 */
export const HOLD_MAX_MS = 3000;

type WriteCallback = (error?: Error | null) => void;

/** What the hold reads of the record queue: how full it is, and how to apply its policy. */
export interface QueueGauge {
  readonly full: boolean;
  readonly bytes: number;
  readonly maxBytes: number;
  /** Applies the drop policy to what is over the bound. */
  trim(): void;
}

export interface InputHoldOptions {
  readonly overflow: OverflowPolicy;
  readonly queue: QueueGauge;
  readonly clock: Clock;
  /** Whether a session (or an NDJSON connection) is taking records now. */
  readonly shipper: ShipperStatus;
}

/**
 * When the appender's write completes while the record queue is full. 'block' holds it until
 * there is room. A drop policy holds it too, but only while a session takes records (or is
 * opening), for HOLD_LIMIT_MS without progress and HOLD_MAX_MS in all: a burst then waits in
 * pino's buffer for the collector instead of being dropped; after that the policy drops, until
 * the queue is half empty again. Once the stream ends no write is held, so that closing (and its
 * closeTimeout) can start, and the queue keeps everything that came before the end.
 */
export class InputHold {
  readonly #options: InputHoldOptions;
  #blocked: WriteCallback | undefined;
  /** A hold is running, or ran out: the drop policy applies until the queue is half empty. */
  #timer: TimerHandle | undefined;
  #expired = false;
  #ending = false;
  /** When the running hold began. */
  #holdStart = 0;

  constructor(options: InputHoldOptions) {
    this.#options = options;
  }

  /**
   * RecordQueue's `holding`: a drop policy keeps records over the bound for now. While closing it
   * keeps everything: what pino handed over before the end is delivered within closeTimeout, or
   * reported as undelivered, never dropped by the policy on its way in.
   */
  get holding(): boolean {
    if (this.#ending) return true;
    if (this.#options.overflow === 'block' || this.#expired) return false;
    return this.#options.shipper.taking;
  }

  /** Completes a write at once, or once the queue has room (or the hold ends). */
  afterWrite(cb: WriteCallback): void {
    const block = this.#options.overflow === 'block' || this.holding;
    if (!block || !this.#options.queue.full || this.#ending) {
      cb(null);
      return;
    }
    this.#blocked = cb;
    if (this.#options.overflow !== 'block' && this.#timer === undefined) {
      this.#holdStart = this.#options.clock.now();
      this.#timer = this.#options.clock.setTimeout(() => this.#endHold(true), HOLD_LIMIT_MS);
    }
  }

  /**
   * After a change: a queue drained to half allows a new hold; `progressed` (the collector
   * acknowledged, or the store took a batch) gives the running hold HOLD_LIMIT_MS more, up to
   * HOLD_MAX_MS in all; no session taking records ends it.
   */
  check(progressed = false): void {
    const queue = this.#options.queue;
    if (queue.bytes <= queue.maxBytes / 2) {
      this.#expired = false;
      this.#clearTimer();
    } else if (this.#timer !== undefined && progressed) {
      const clock = this.#options.clock;
      const left = this.#holdStart + HOLD_MAX_MS - clock.now();
      clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      if (left <= 0) this.#endHold(true);
      else this.#timer = clock.setTimeout(() => this.#endHold(true), Math.min(HOLD_LIMIT_MS, left));
    }
    if (this.#blocked !== undefined && this.#options.overflow !== 'block' && !this.holding)
      this.#endHold(false);
  }

  /** The stream ends: nothing is held any more. */
  end(): void {
    this.#ending = true;
    this.#clearTimer();
    this.release();
  }

  /**
   * Lets a blocked write complete. Later, never inside the call that made room: the stream then
   * writes its buffered chunks, and they must not be batched in the middle of a commit.
   */
  release(): void {
    const blocked = this.#blocked;
    this.#blocked = undefined;
    if (blocked !== undefined) queueMicrotask(() => blocked(null));
  }

  /** Ends a hold: the policy drops what came in over the bound, and input flows again. */
  #endHold(expired: boolean): void {
    this.#clearTimer();
    if (expired) this.#expired = true;
    // Closing delivers what it can of the whole queue, within closeTimeout: nothing is trimmed.
    if (!this.#ending) this.#options.queue.trim();
    this.release();
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
