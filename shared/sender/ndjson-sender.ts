import type { Messenger } from '../net/messenger.js';
import type { PendingBatch } from './record-queue.js';
import { type UnackedCounters, UnackedSender, type UnackedSenderOptions } from './unacked-sender.js';

/**
 * `protocol: 'ndjson'` (issue #4, PROTOCOL.md §10): the records, as pino wrote them, over a
 * plain TCP (or TLS, Unix) connection to any NDJSON sink (Vector, Fluent Bit, Logstash, a
 * collector's `ndjson` listener). There are no messages and no acknowledgements: a record counts
 * as sent once the socket takes it, and what the kernel held when a connection broke is lost, as
 * with pino-socket. Reconnection, failover and backoff come from the permanent client.
 */

export type NdjsonCounters = UnackedCounters;
export type NdjsonSenderOptions = UnackedSenderOptions;

export class NdjsonSender extends UnackedSender {
  protected cost(pending: PendingBatch): number {
    return pending.body.length;
  }

  protected transmit(messenger: Messenger, pending: PendingBatch): boolean {
    // Raw bytes: the link, not the messenger, since NDJSON has no message framing.
    return messenger.link.write([pending.body]);
  }
}
