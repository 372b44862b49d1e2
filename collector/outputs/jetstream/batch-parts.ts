/**
 * A batch larger than the server's max_payload (1 MiB by default, the appender's default
 * batch.maxBytes too, and the headers come on top) goes as consecutive parts, cut at record
 * boundaries, each a batch of its own: `seq` its first record's number, so its id
 * `source:seq` comes out the same from every collector on the same cluster (same limit, same
 * immutable batch). The writing tier sees them as consecutive batches.
 */

/** One message's worth of a batch. */
export interface BatchPart {
  readonly seq: number;
  readonly count: number;
  readonly body: Buffer;
}

/** Room kept in each message for the headers (names of at most 255 bytes each, numbers). */
export const HEADER_ROOM = 2048;

/**
 * Cuts `body` (count records, each ending in LF) into parts of at most `maxPayload −
 * HEADER_ROOM` bytes; undefined when one record alone is larger, or the body does not hold
 * `count` lines (it is then sent whole, and the server's refusal reported).
 */
export function splitBatch(
  seq: number,
  count: number,
  body: Buffer,
  maxPayload: number,
): BatchPart[] | undefined {
  const limit = maxPayload - HEADER_ROOM;
  if (body.length <= limit) return [{ seq, count, body }];
  const parts: BatchPart[] = [];
  let start = 0;
  let first = seq;
  let lines = 0;
  let end = 0; // end of the last whole line that fits in the current part
  let records = 0;
  while (end < body.length) {
    const lf = body.indexOf(0x0a, end);
    if (lf === -1) return undefined;
    if (lf + 1 - start > limit) {
      if (lines === 0) return undefined;
      parts.push({ seq: first, count: lines, body: body.subarray(start, end) });
      first += lines;
      start = end;
      lines = 0;
      continue;
    }
    end = lf + 1;
    lines += 1;
    records += 1;
  }
  if (lines > 0) parts.push({ seq: first, count: lines, body: body.subarray(start, end) });
  return records === count ? parts : undefined;
}
