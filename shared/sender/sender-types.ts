import type { ClientStatus, PermanentClientOptions } from '../net/permanent-client.js';
import type { RateLimitOptions } from '../net/rate-limit.js';
import type { Address } from '../protocol/address.js';
import type { BatchStore } from './batch-store.js';
import type { Fallback } from './fallback.js';
import type { RecordQueue } from './record-queue.js';

/** What a Sender (sender.ts) is given, counts and reports. */

/** Counters the sender keeps, in records. */
export interface SenderCounters {
  /** Put on the wire, resends included. */
  sent: number;
  /** Acknowledged by a collector (READY last or ACK). */
  acknowledged: number;
  /** Dropped by the sender: alone over the collector's max_body. */
  dropped: number;
  /** Written to the spool. */
  spooled: number;
  /** REGISTER refusals (UNAUTHORIZED, INVALID). */
  refused: number;
  /** Links dropped for want of acknowledgements. */
  ackTimeouts: number;
}

export function zeroCounters(): SenderCounters {
  return { sent: 0, acknowledged: 0, dropped: 0, spooled: 0, refused: 0, ackTimeouts: 0 };
}

export interface SenderOptions {
  readonly addresses: readonly Address[];
  readonly store: BatchStore;
  /** True when the store is durable (a spool): commit to it at once, whatever the connection. */
  readonly durable: boolean;
  readonly queue: RecordQueue;
  readonly source: string;
  /** A fresh source id after `sequence_behind` (the spool keeps it; else a new random id). */
  readonly renewSource: () => Promise<string>;
  readonly host: string;
  readonly token?: string;
  readonly pid?: number;
  /** Bound on unacknowledged bytes in flight. */
  readonly window: number;
  /** ms without ACK progress while batches are in flight; 0: never. */
  readonly ackTimeout: number;
  /** ms to wait for READY after REGISTER. Default 10000. */
  readonly registerTimeout?: number;
  readonly rateLimit?: RateLimitOptions;
  readonly fallback: Fallback;
  /**
   * Called with the body of each batch the collector acknowledged, once nothing here will read it
   * again (the batcher then writes new records over it). Not for records dropped.
   */
  readonly release?: (body: Buffer) => void;
  /** Passed to the PermanentClient (tls, backoff, timeouts, heartbeat, clock, connect). */
  readonly client?: Omit<PermanentClientOptions, 'addresses' | 'handshake' | 'rateLimit'>;
}

export interface SenderEvents {
  /** Something moved: records acknowledged, spooled, dropped or committed. */
  progress: [];
  status: [status: ClientStatus];
}
