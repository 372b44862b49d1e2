import { EventEmitter } from 'node:events';
import type { Address } from '../net/address.js';
import type { Messenger } from '../net/messenger.js';
import { type ClientStatus, PermanentClient, type PermanentClientOptions } from '../net/permanent-client.js';
import { RateLimit, type RateLimitOptions } from '../net/rate-limit.js';
import { message } from '../protocol/message.js';
import { recut } from './batcher.js';
import type { Fallback } from './fallback.js';
import type { PendingBatch, RecordQueue } from './record-queue.js';

/**
 * Records over UDP (PROTOCOL.md §7): no session, no ACK, nothing ever comes back. Each datagram
 * is one `EVENTS seq;count;source;service;host;bytes` message whose body is whole records, cut
 * by the batcher to fit `udp.maxDatagram` with room for the longest possible line. A record that
 * cannot fit alone never gets here: the batcher drops it before numbering (counted, written to
 * the fallback) — never truncated, never thrown, never an empty datagram.
 *
 * Numbers are taken when a batch is handed to the socket, so only batches really sent are
 * numbered; the collector's loss counter then sees only what the network lost. While the socket
 * is not up (a name being looked up), batches wait in the record queue under its policy.
 */

/** The longest line of an EVENTS datagram: three names of 64 and three numbers (seq, count, bytes) of 16 digits. */
export const UDP_LINE_ROOM =
  Buffer.byteLength('EVENTS seq=;count=;source=;service=;host=;bytes=\n') + 3 * 16 + 3 * 64;

/** The most body bytes one datagram of `maxDatagram` bytes can carry. */
export function udpBodyRoom(maxDatagram: number): number {
  return maxDatagram - UDP_LINE_ROOM;
}

export interface UdpCounters {
  /** Records handed to the socket. */
  sent: number;
  /** Records dropped here (a batch over the datagram room: only if cut elsewhere). */
  dropped: number;
}

export interface UdpSenderOptions {
  readonly addresses: readonly Address[];
  readonly queue: RecordQueue;
  readonly source: string;
  readonly host: string;
  readonly maxDatagram: number;
  readonly rateLimit?: RateLimitOptions;
  readonly fallback: Fallback;
  /** Passed to the PermanentClient (backoff, connectTimeout, clock, connect). */
  readonly client?: Omit<PermanentClientOptions, 'addresses' | 'handshake' | 'heartbeat' | 'rateLimit'>;
}

export interface UdpSenderEvents {
  progress: [];
  status: [status: ClientStatus];
}

const TIMER_RATE = 'udp-rate';

export class UdpSender extends EventEmitter<UdpSenderEvents> {
  readonly counters: UdpCounters = { sent: 0, dropped: 0 };
  readonly #options: UdpSenderOptions;
  readonly #queue: RecordQueue;
  readonly #room: number;
  #client: PermanentClient | undefined;
  #rate: RateLimit | undefined;
  #service: string | undefined;
  #messenger: Messenger | undefined;
  #linkFull = false;
  #nextSeq = 1;
  #stopped = false;

  constructor(options: UdpSenderOptions) {
    super();
    this.#options = options;
    this.#queue = options.queue;
    this.#room = udpBodyRoom(options.maxDatagram);
  }

  get source(): string {
    return this.#options.source;
  }

  get connected(): boolean {
    return this.#messenger !== undefined;
  }

  get reconnects(): number {
    return this.#client?.reconnects ?? 0;
  }

  /** Starts once the service name is known (the first record's `name`, or the option). */
  start(service: string): void {
    if (this.#client !== undefined || this.#stopped) return;
    this.#service = service;
    const clock = this.#options.client?.clock;
    if (this.#options.rateLimit !== undefined) this.#rate = new RateLimit(this.#options.rateLimit, clock);
    const client = new PermanentClient({ ...this.#options.client, addresses: this.#options.addresses });
    this.#client = client;
    client.on('status', (status) => this.#onStatus(status));
  }

  /** New batches in the record queue. */
  wake(): void {
    this.#pump();
  }

  /** Closes the socket once the datagrams handed to it are sent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#messenger = undefined;
    await this.#client?.close();
  }

  #pump(): void {
    const messenger = this.#messenger;
    const service = this.#service;
    if (messenger === undefined || service === undefined || this.#linkFull || this.#stopped) return;
    let sent = false;
    for (let pending = this.#queue.peek(); pending !== undefined; pending = this.#queue.peek()) {
      if (pending.body.length > this.#room) {
        this.#queue.shift();
        this.#recut(pending);
        continue;
      }
      if (this.#rate !== undefined) {
        const bytes = pending.body.length + UDP_LINE_ROOM;
        const delay = this.#rate.delayFor(bytes);
        if (delay > 0) {
          this.#client?.timers.set(TIMER_RATE, delay, () => this.#pump());
          break;
        }
        this.#rate.take(bytes);
      }
      this.#queue.shift();
      const seq = this.#nextSeq;
      this.#nextSeq += pending.count;
      const room = messenger.send(
        message(
          'EVENTS',
          { seq, count: pending.count, source: this.#options.source, service, host: this.#options.host },
          pending.body,
        ),
      );
      this.counters.sent += pending.count;
      sent = true;
      if (!room) {
        this.#linkFull = true;
        break;
      }
    }
    if (sent) this.emit('progress');
  }

  /** A batch cut for a larger datagram (not by our batcher): cut finer, drop lone giants. */
  #recut(pending: PendingBatch): void {
    const { batches, oversize } = recut(pending.body, this.#room);
    for (const record of oversize) {
      this.counters.dropped += 1;
      this.#options.fallback.write(record);
    }
    for (let i = batches.length - 1; i >= 0; i--) this.#queue.unshift(batches[i]!);
    if (oversize.length > 0) this.emit('progress');
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
