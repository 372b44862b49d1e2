import { EventEmitter } from 'node:events';
import type { Messenger } from '../net/messenger.js';
import { type ClientStatus, PermanentClient, type PermanentClientOptions } from '../net/permanent-client.js';
import { RateLimit, type RateLimitOptions } from '../net/rate-limit.js';
import type { Address } from '../protocol/address.js';
import type { PendingBatch, RecordQueue } from './record-queue.js';

/**
 * What the senders without acknowledgements share (UDP §7, plain NDJSON §10): a permanent
 * client for reconnection, failover and backoff, and a pump that moves batches from the record
 * queue to the link as fast as the link and the rate limit allow. A batch counts as sent once
 * the transport takes it; while the link is down, batches wait in the queue under its policy.
 * Subclasses say how a batch is admitted (its cost for the rate limit) and how it is written.
 */

export interface UnackedCounters {
  /** Records handed to the transport. */
  sent: number;
  /** Records dropped by the sender itself. */
  dropped: number;
}

export interface UnackedSenderOptions {
  readonly addresses: readonly Address[];
  readonly queue: RecordQueue;
  readonly rateLimit?: RateLimitOptions;
  /** Passed to the PermanentClient (backoff, connectTimeout, clock, connect). */
  readonly client?: Omit<PermanentClientOptions, 'addresses' | 'handshake' | 'heartbeat' | 'rateLimit'>;
}

export interface UnackedSenderEvents {
  progress: [];
  status: [status: ClientStatus];
}

const TIMER_RATE = 'unacked-rate';

export abstract class UnackedSender extends EventEmitter<UnackedSenderEvents> {
  readonly counters: UnackedCounters = { sent: 0, dropped: 0 };
  protected readonly queue: RecordQueue;
  readonly #options: UnackedSenderOptions;
  #client: PermanentClient | undefined;
  #rate: RateLimit | undefined;
  #messenger: Messenger | undefined;
  #linkFull = false;
  #stopped = false;

  constructor(options: UnackedSenderOptions) {
    super();
    this.#options = options;
    this.queue = options.queue;
  }

  get connected(): boolean {
    return this.#messenger !== undefined;
  }

  get reconnects(): number {
    return this.#client?.reconnects ?? 0;
  }

  /** Connects (once). */
  start(_service: string): void {
    if (this.#client !== undefined || this.#stopped) return;
    const clock = this.#options.client?.clock;
    if (this.#options.rateLimit !== undefined) this.#rate = new RateLimit(this.#options.rateLimit, clock);
    const client = new PermanentClient({ ...this.#options.client, addresses: this.#options.addresses });
    this.#client = client;
    client.on('status', (status) => this.#onStatus(status));
  }

  /** New batches in the record queue. */
  wake(): void {
    this.pump();
  }

  /** Closes the connection once what was handed to it is flushed. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#messenger = undefined;
    await this.#client?.close();
  }

  /**
   * The bytes this batch costs against the rate limit, or undefined when the subclass took it
   * off the queue itself (a UDP batch re-cut to fit datagrams).
   */
  protected abstract admit(pending: PendingBatch): number | undefined;

  /** Writes one batch; false when the link is full. */
  protected abstract transmit(messenger: Messenger, pending: PendingBatch): boolean;

  protected pump(): void {
    const messenger = this.#messenger;
    if (messenger === undefined || this.#linkFull || this.#stopped) return;
    let sent = false;
    for (let pending = this.queue.peek(); pending !== undefined; pending = this.queue.peek()) {
      const cost = this.admit(pending);
      if (cost === undefined) continue;
      if (this.#rate !== undefined) {
        const delay = this.#rate.delayFor(cost);
        if (delay > 0) {
          this.#client?.timers.set(TIMER_RATE, delay, () => this.pump());
          break;
        }
        this.#rate.take(cost);
      }
      this.queue.shift();
      const room = this.transmit(messenger, pending);
      this.counters.sent += pending.count;
      sent = true;
      if (!room) {
        this.#linkFull = true;
        break;
      }
    }
    if (sent) this.emit('progress');
  }

  #onStatus(status: ClientStatus): void {
    if (status.state === 'connected') {
      const messenger = status.messenger;
      this.#messenger = messenger;
      this.#linkFull = false;
      messenger.on('drain', () => {
        if (messenger !== this.#messenger) return;
        this.#linkFull = false;
        this.pump();
      });
      this.pump();
    } else if (status.state === 'disconnected' || status.state === 'closed') {
      this.#messenger = undefined;
      this.#client?.timers.clear(TIMER_RATE);
    }
    this.emit('status', status);
  }
}
