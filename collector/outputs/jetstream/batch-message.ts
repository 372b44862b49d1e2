/**
 * One numbered batch as one JetStream message, and back. The id `source:seq` (seq: the batch's
 * first record number) is the same whichever collector publishes it, because a batch is
 * immutable and resent whole (PROTOCOL.md §3): the stream's duplicate window drops the copy.
 *
 *   subject  <prefix>.<service>     headers  Nats-Msg-Id, Logwire-Source, Logwire-Host,
 *   body     the batch's NDJSON               Logwire-Service, Logwire-Seq, Logwire-Count
 */

import { headers, type MsgHdrs } from '@nats-io/transport-node';
import type { Route } from '../../writer/write-job.js';

export const HEADER = Object.freeze({
  source: 'Logwire-Source',
  host: 'Logwire-Host',
  service: 'Logwire-Service',
  seq: 'Logwire-Seq',
  count: 'Logwire-Count',
});

export interface BatchMessage {
  readonly route: Route;
  readonly seq: number;
  readonly count: number;
}

/** The id the stream deduplicates on. */
export function messageId(source: string, seq: number): string {
  return `${source}:${seq}`;
}

/** A subject token holds no dot, space or wildcard: any other character becomes `_`. */
export function subjectFor(prefix: string, service: string): string {
  return `${prefix}.${service.replace(/[^A-Za-z0-9_-]/g, '_') || '_'}`;
}

export function batchHeaders(batch: BatchMessage): MsgHdrs {
  const h = headers();
  h.set(HEADER.source, batch.route.source);
  h.set(HEADER.host, batch.route.host);
  h.set(HEADER.service, batch.route.service);
  h.set(HEADER.seq, String(batch.seq));
  h.set(HEADER.count, String(batch.count));
  return h;
}

/** Reads a message's batch names and numbers; undefined names the header that is missing or wrong. */
export function readBatchHeaders(h: MsgHdrs | undefined): BatchMessage | string {
  if (h === undefined) return 'no headers';
  const source = h.get(HEADER.source);
  const service = h.get(HEADER.service);
  if (source === '') return `no ${HEADER.source}`;
  if (service === '') return `no ${HEADER.service}`;
  const seq = Number(h.get(HEADER.seq));
  const count = Number(h.get(HEADER.count));
  if (!Number.isSafeInteger(seq) || seq < 1) return `bad ${HEADER.seq}`;
  if (!Number.isSafeInteger(count) || count < 1) return `bad ${HEADER.count}`;
  return { route: { source, service, host: h.get(HEADER.host) }, seq, count };
}
