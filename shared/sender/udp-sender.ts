import type { Messenger } from '../net/messenger.js';
import { message } from '../protocol/message.js';
import { recut } from './batcher.js';
import type { Fallback } from './fallback.js';
import type { PendingBatch } from './record-queue.js';
import { type UnackedCounters, UnackedSender, type UnackedSenderOptions } from './unacked-sender.js';

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

export type UdpCounters = UnackedCounters;

export interface UdpSenderOptions extends UnackedSenderOptions {
  readonly source: string;
  readonly host: string;
  readonly maxDatagram: number;
  readonly fallback: Fallback;
}

export class UdpSender extends UnackedSender {
  readonly #options: UdpSenderOptions;
  readonly #room: number;
  #service: string | undefined;
  #nextSeq = 1;

  constructor(options: UdpSenderOptions) {
    super(options);
    this.#options = options;
    this.#room = udpBodyRoom(options.maxDatagram);
  }

  get source(): string {
    return this.#options.source;
  }

  /** Starts once the service name is known (the first record's `name`, or the option). */
  override start(service: string): void {
    this.#service ??= service;
    super.start(service);
  }

  protected cost(pending: PendingBatch): number | undefined {
    if (pending.body.length <= this.#room) return pending.body.length + UDP_LINE_ROOM;
    this.queue.shift();
    this.#recut(pending);
    return undefined;
  }

  protected transmit(messenger: Messenger, pending: PendingBatch): boolean {
    const seq = this.#nextSeq;
    this.#nextSeq += pending.count;
    const { source, host } = this.#options;
    const service = this.#service!;
    return messenger.send(
      message('EVENTS', { seq, count: pending.count, source, service, host }, pending.body),
    );
  }

  /** A batch cut for a larger datagram (not by our batcher): cut finer, drop lone giants. */
  #recut(pending: PendingBatch): void {
    const { batches, oversize } = recut(pending.body, this.#room);
    for (const record of oversize) {
      this.counters.dropped += 1;
      this.#options.fallback.write(record);
    }
    for (let i = batches.length - 1; i >= 0; i--) this.queue.unshift(batches[i]!);
    if (oversize.length > 0) this.emit('progress');
  }
}
