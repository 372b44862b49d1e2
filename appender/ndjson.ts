import { EventEmitter } from 'node:events';
import type { Address } from '../shared/net/address.js';
import type { Messenger } from '../shared/net/messenger.js';
import {
  type ClientStatus,
  PermanentClient,
  type PermanentClientOptions,
} from '../shared/net/permanent-client.js';
import { RateLimit, type RateLimitOptions } from '../shared/net/rate-limit.js';
import type { RecordQueue } from '../shared/sender/record-queue.js';

/**
 * `protocol: 'ndjson'` (issue #4, PROTOCOL.md §10): the records, as pino wrote them, over a
 * plain TCP (or TLS, Unix) connection to any NDJSON sink (Vector, Fluent Bit, Logstash, a
 * collector's `ndjson` listener). There are no messages and no acknowledgements: a record counts
 * as sent once the socket takes it, and what the kernel held when a connection broke is lost, as
 * with pino-socket. Reconnection, failover and backoff come from the permanent client; while it
 * is down, batches wait in the record queue under its overflow policy.
 */

export interface NdjsonCounters {
  /** Records handed to the socket. */
  sent: number;
  dropped: number;
}

export interface NdjsonSenderOptions {
  readonly addresses: readonly Address[];
  readonly queue: RecordQueue;
  readonly rateLimit?: RateLimitOptions;
  readonly client?: Omit<PermanentClientOptions, 'addresses' | 'handshake' | 'heartbeat' | 'rateLimit'>;
}

export interface NdjsonSenderEvents {
  progress: [];
  status: [status: ClientStatus];
}

const TIMER_RATE = 'ndjson-rate';

export class NdjsonSender extends EventEmitter<NdjsonSenderEvents> {
  readonly counters: NdjsonCounters = { sent: 0, dropped: 0 };
  readonly #options: NdjsonSenderOptions;
  readonly #queue: RecordQueue;
  #client: PermanentClient | undefined;
  #rate: RateLimit | undefined;
  #messenger: Messenger | undefined;
  #linkFull = false;
  #stopped = false;

  constructor(options: NdjsonSenderOptions) {
    super();
    this.#options = options;
    this.#queue = options.queue;
  }

  get connected(): boolean {
    return this.#messenger !== undefined;
  }

  get reconnects(): number {
    return this.#client?.reconnects ?? 0;
  }

  /** Connects; the service name plays no part in NDJSON. */
  start(_service: string): void {
    if (this.#client !== undefined || this.#stopped) return;
    const clock = this.#options.client?.clock;
    if (this.#options.rateLimit !== undefined) this.#rate = new RateLimit(this.#options.rateLimit, clock);
    const client = new PermanentClient({ ...this.#options.client, addresses: this.#options.addresses });
    this.#client = client;
    client.on('status', (status) => this.#onStatus(status));
  }

  wake(): void {
    this.#pump();
  }

  /** Closes the connection after what was written is flushed. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#messenger = undefined;
    await this.#client?.close();
  }

  #pump(): void {
    const messenger = this.#messenger;
    if (messenger === undefined || this.#linkFull || this.#stopped) return;
    let sent = false;
    for (let pending = this.#queue.peek(); pending !== undefined; pending = this.#queue.peek()) {
      if (this.#rate !== undefined) {
        const delay = this.#rate.delayFor(pending.body.length);
        if (delay > 0) {
          this.#client?.timers.set(TIMER_RATE, delay, () => this.#pump());
          break;
        }
        this.#rate.take(pending.body.length);
      }
      this.#queue.shift();
      // Raw bytes: the link, not the messenger, since NDJSON has no message framing.
      const room = messenger.link.write([pending.body]);
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
        this.#pump();
      });
      this.#pump();
    } else if (status.state === 'disconnected' || status.state === 'closed') {
      this.#messenger = undefined;
      this.#client?.timers.clear(TIMER_RATE);
    }
    this.emit('status', status);
  }
}
