/**
 * One relayed batch as the forward spool stores it: a header line naming the original source,
 * service and host with the batch's own numbers, then the body, byte for byte (PROTOCOL.md §3:
 * a numbered batch travels whole, never re-cut).
 *
 *   F <source> <service> <host> <seq> <count> <bytes>\n<body>
 *
 * Names match the REGISTER name rule (§4), so a space never occurs inside one.
 */

import { type Batch, lastSeq } from '../../../shared/sender/batch.js';

/** A batch with the names of the stream it belongs to. */
export interface RelayBatch extends Batch {
  readonly source: string;
  readonly service: string;
  readonly host: string;
}

/** A batch as spooled: where it lies, for freeing its segment once acknowledged upstream. */
export interface SpooledBatch extends RelayBatch {
  readonly segment: number;
  /** Header and body bytes in the segment file. */
  readonly size: number;
}

const NUMBER = /^[1-9][0-9]{0,15}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Longest header: three names of 64, three numbers of 16, separators. */
const MAX_HEADER = 3 * 64 + 3 * 16 + 8;

export function encodeHeader(batch: RelayBatch): Buffer {
  const { source, service, host, seq, count, body } = batch;
  return Buffer.from(`F ${source} ${service} ${host} ${seq} ${count} ${body.length}\n`, 'latin1');
}

/** The last record number of an entry. */
export { lastSeq };

/**
 * Reads the entry at `offset` of a segment's bytes: the batch (its body a view into `data`) and
 * where the next one starts, or undefined when what is there is not a whole entry (a write the
 * crash cut short, or damage): recovery cuts the segment there.
 */
export function decodeEntry(
  data: Buffer,
  offset: number,
  segment: number,
): { batch: SpooledBatch; next: number } | undefined {
  const end = data.indexOf(0x0a, offset);
  if (end === -1 || end - offset > MAX_HEADER) return undefined;
  const fields = data.toString('latin1', offset, end).split(' ');
  if (fields.length !== 7 || fields[0] !== 'F') return undefined;
  const [, source, service, host, seqText, countText, bytesText] = fields as [string, ...string[]];
  if (![source, service, host].every((name) => NAME.test(name ?? ''))) return undefined;
  if (![seqText, countText].every((n) => NUMBER.test(n ?? '')) || !/^[0-9]{1,16}$/.test(bytesText ?? ''))
    return undefined;
  const seq = Number(seqText);
  const count = Number(countText);
  const bytes = Number(bytesText);
  const bodyStart = end + 1;
  if (bodyStart + bytes > data.length || !Number.isSafeInteger(seq + count)) return undefined;
  const body = data.subarray(bodyStart, bodyStart + bytes);
  const batch: SpooledBatch = {
    ...{ source: source!, service: service!, host: host!, seq, count, body, segment },
    size: bodyStart + bytes - offset,
  };
  return { batch, next: bodyStart + bytes };
}
