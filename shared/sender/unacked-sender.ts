import { EventEmitter } from 'node:events';
import type { Messenger } from '../net/messenger.js';
import type { OutletSource } from '../net/outlet.js';
import { type ClientStatus, PermanentClient, type PermanentClientOptions } from '../net/permanent-client.js';
import type { RateLimitOptions } from '../net/rate-limit.js';
import type { Address } from '../protocol/address.js';
import type { PendingBatch, RecordQueue } from './record-queue.js';

/**
 * What the senders without acknowledgements share (UDP §7, plain NDJSON §10): a permanent
 * client for reconnection, failover and backoff, whose outlet pulls batches from the record
 * queue as fast as the link and the rate limit allow. A batch counts as sent once the transport
 * takes it; while the link is down, batches wait in the queue under its policy. Subclasses say
 * what a batch costs against the rate limit and how it is written.
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

export abstract class UnackedSender extends EventEmitter<UnackedSenderEvents> {
  readonly counters: UnackedCounters = { sent: 0, dropped: 0 };
  protected readonly queue: RecordQueue;
  readonly #options: UnackedSenderOptions;
  #client: PermanentClient | undefined;
  #connected = false;
  #stopped = false;

  constructor(options: UnackedSenderOptions) {
    super();
    this.#options = options;
    this.queue = options.queue;
  }

  get connected(): boolean {
    return this.#connected;
  }

  get reconnects(): number {
    return this.#client?.reconnects ?? 0;
  }

  /** Connects (once). */
  start(_service: string): void {
    if (this.#client !== undefined || this.#stopped) return;
    const rateLimit = this.#options.rateLimit;
    const client = new PermanentClient({
      ...this.#options.client,
      ...(rateLimit === undefined ? {} : { rateLimit }),
      addresses: this.#options.addresses,
    });
    this.#client = client;
    client.feed(this.#queueSource());
    client.on('status', (status) => this.#onStatus(status));
  }

  /** New batches in the record queue. */
  wake(): void {
    this.#client?.pump();
  }

  /** Closes the connection once what was handed to it is flushed. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#connected = false;
    await this.#client?.close();
  }

  /**
   * The bytes this batch costs against the rate limit, or undefined when the subclass took it
   * off the queue itself (a UDP batch re-cut to fit datagrams): the queue is then looked at again.
   */
  protected abstract cost(pending: PendingBatch): number | undefined;

  /** Writes one batch; false when the link is full. */
  protected abstract transmit(messenger: Messenger, pending: PendingBatch): boolean;

  #queueSource(): OutletSource {
    return {
      nextCost: () => {
        for (let pending = this.queue.peek(); pending !== undefined; pending = this.queue.peek()) {
          const cost = this.cost(pending);
          if (cost !== undefined) return cost;
        }
        return undefined;
      },
      writeNext: (messenger) => {
        const pending = this.queue.shift()!;
        const room = this.transmit(messenger, pending);
        this.counters.sent += pending.count;
        return room;
      },
      pumped: (written) => {
        if (written > 0) this.emit('progress');
      },
    };
  }

  #onStatus(status: ClientStatus): void {
    if (status.state === 'connected') this.#connected = true;
    else if (status.state === 'disconnected' || status.state === 'closed') this.#connected = false;
    this.emit('status', status);
  }
}
