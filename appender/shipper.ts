import type { ClientStatus } from '../shared/net/permanent-client.js';
import type { Batch } from '../shared/sender/batch.js';
import type { Sender } from '../shared/sender/sender.js';
import type { UnackedSender } from '../shared/sender/unacked-sender.js';

/**
 * The one contract the appender ships through, whatever the delivery: a §4 session, §7 datagrams
 * or plain NDJSON (§10). Counters are the same four for each; what only a session has (acks, a
 * spool, numbered batches left at close) reads as zero or empty for the others.
 */

/** Records, counted after it happened. */
export interface ShipperCounters {
  /** Put on the wire (resends included). */
  readonly sent: number;
  /** Acknowledged by a collector: 0 without acknowledgements. */
  readonly acknowledged: number;
  /** Dropped by the shipper itself: alone over the body or datagram limit. */
  readonly dropped: number;
  /** Written to the spool. */
  readonly spooled: number;
}

/** What the record queue's hold reads of the shipper (input-hold.ts). */
export interface ShipperStatus {
  /** Records are being taken now, or will be at once (a session opening). */
  readonly taking: boolean;
}

export interface Shipper extends ShipperStatus {
  /** A session: records count once acknowledged (or spooled), not once sent. */
  readonly acknowledging: boolean;
  readonly counters: ShipperCounters;
  readonly connected: boolean;
  readonly reconnects: number;
  /** The source id of the session numbering, or of the datagrams. */
  readonly source: string | undefined;
  /** Records numbered and not yet acknowledged. */
  readonly unacknowledged: number;
  /** Records numbered and not yet held by the store (for a spool: not yet on disk). */
  readonly appending: number;
  /** Records are kept in a working spool. */
  readonly spooling: boolean;
  /** The collector said it could not write (until the next ACK). */
  readonly collectorWriteFailed: boolean;
  /** Numbered batches not acknowledged, oldest first. */
  unacked(): readonly Batch[];
  /** Numbered batches not yet held by the store, oldest first. */
  appendingBatches(): readonly Batch[];
  /** Connects before the service is known (a session); otherwise nothing. */
  connectEarly(): void;
  /** Names the service and starts. */
  start(service: string): void;
  /** New batches in the record queue. */
  wake(): void;
  stop(): Promise<void>;
  on(event: 'progress', listener: () => void): unknown;
  on(event: 'status', listener: (status: ClientStatus) => void): unknown;
}

const NONE: readonly Batch[] = Object.freeze([]);

/** A §4 session over a Sender (a memory store or a spool). */
export function sessionShipper(sender: Sender, durable: boolean): Shipper {
  return {
    acknowledging: true,
    get counters() {
      return sender.counters;
    },
    get taking() {
      return sender.sending || sender.opening;
    },
    get connected() {
      return sender.connected;
    },
    get reconnects() {
      return sender.reconnects;
    },
    get source() {
      return sender.source;
    },
    get unacknowledged() {
      return sender.unacknowledged;
    },
    get appending() {
      return sender.appending;
    },
    get spooling() {
      return durable && sender.durable;
    },
    get collectorWriteFailed() {
      return sender.collectorWriteFailed;
    },
    unacked: () => sender.unacked(),
    appendingBatches: () => sender.appendingBatches(),
    connectEarly: () => sender.connectEarly(),
    start: (service) => sender.start(service),
    wake: () => sender.wake(),
    stop: () => sender.stop(),
    on: (event: 'progress' | 'status', listener: (status: ClientStatus) => void) =>
      sender.on(event, listener),
  };
}

/**
 * Datagrams or NDJSON over an UnackedSender: a record counts once the transport took it.
 * `taking`: NDJSON holds pino's input while connected; UDP never waits for anyone.
 */
export function unackedShipper(
  sender: UnackedSender & { readonly source?: string },
  holds: boolean,
): Shipper {
  return {
    acknowledging: false,
    get counters() {
      const { sent, dropped } = sender.counters;
      return { sent, dropped, acknowledged: 0, spooled: 0 };
    },
    get taking() {
      return holds && sender.connected;
    },
    get connected() {
      return sender.connected;
    },
    get reconnects() {
      return sender.reconnects;
    },
    get source() {
      return sender.source;
    },
    unacknowledged: 0,
    appending: 0,
    spooling: false,
    collectorWriteFailed: false,
    unacked: () => NONE,
    appendingBatches: () => NONE,
    connectEarly: () => {},
    start: (service) => sender.start(service),
    wake: () => sender.wake(),
    stop: () => sender.stop(),
    on: (event: 'progress' | 'status', listener: (status: ClientStatus) => void) =>
      sender.on(event, listener),
  };
}
