import { isUtf8 } from 'node:buffer';
import { maskSecretsInBytes } from '../../shared/protocol/secrets.js';

export { REJECTED_PATH } from './path-template.js';

/**
 * Lines of `_rejected.log` (PROTOCOL.md §6): one JSON object per record or body that failed a
 * check, written through the same output set (and checkpoint) as the records:
 *
 *   {"time":1795390800670,"reason":"not_an_object","source":"a1b2","record":"[1,2]"}
 *
 * `record` is the line as a string, or base64 with `"encoding":"base64"` when it is not
 * UTF-8. A `token` or `secret_code` in the record (a REGISTER sent to an ndjson listener) is
 * masked first (shared/protocol/secrets.ts): secrets never reach a file.
 */
export interface RejectedRecord {
  /** When it was rejected, ms since the epoch. */
  readonly time: number;
  /** A record-check or batch reason (record-check.ts), or the caller's own. */
  readonly reason: string;
  /** The source id, or what stands for it (the listener for ndjson, the peer for UDP). */
  readonly source: string;
  /** The rejected bytes: one record line without its LF, or a whole EVENTS body. */
  readonly record: Buffer;
}

/** The `_rejected.log` line for one rejection, LF included. */
export function formatRejected(rejected: RejectedRecord): string {
  const head = { time: rejected.time, reason: rejected.reason, source: rejected.source };
  const record = maskSecretsInBytes(rejected.record);
  const line = isUtf8(record)
    ? { ...head, record: record.toString('utf8') }
    : { ...head, record: record.toString('base64'), encoding: 'base64' };
  return `${JSON.stringify(line)}\n`;
}
