import { isUtf8 } from 'node:buffer';
import type { Validation } from './config-types.js';

/**
 * The record check of PROTOCOL.md §6 and the batch splitter in front of it. A record line that
 * fails never reaches an output file: it goes to `_rejected.log` with the reason below.
 *
 * - `shape` (default): begins with `{`, ends with `}`, valid UTF-8 — memory speed, so every
 *   output line is one whole line (`{oops}` passes).
 * - `full`: the line is exactly a JSON object (parsed; about 0.6 µs a record).
 */

/** Why a record line was rejected (the `reason` in `_rejected.log`). */
export type RecordRejectReason = 'empty_line' | 'not_an_object' | 'invalid_utf8' | 'invalid_json';

/** Why a whole EVENTS body was rejected: it is not exactly `count` LF-terminated lines. */
export type BatchRejectReason = 'too_few_lines' | 'too_many_lines' | 'unterminated_line' | 'bad_count';

export type SplitResult =
  | { readonly ok: true; readonly lines: Buffer[] }
  | { readonly ok: false; readonly reason: BatchRejectReason };

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const LF = 10;

/** Checks one record line (without its LF); undefined when it may be written. */
export function checkRecord(line: Buffer, validate: Validation = 'shape'): RecordRejectReason | undefined {
  if (line.length === 0) return 'empty_line';
  if (validate === 'full') return checkFull(line);
  if (line[0] !== OPEN_BRACE || line[line.length - 1] !== CLOSE_BRACE) return 'not_an_object';
  return isUtf8(line) ? undefined : 'invalid_utf8';
}

function checkFull(line: Buffer): RecordRejectReason | undefined {
  // toString would replace bad sequences with U+FFFD and let them through: check first.
  if (!isUtf8(line)) return 'invalid_utf8';
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    return 'invalid_json';
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : 'not_an_object';
}

/**
 * Cuts an EVENTS body into its `count` record lines: views into `body` without their LF, in
 * order. Anything but exactly `count` LF-terminated lines rejects the whole body (§6).
 */
export function splitBatch(body: Buffer, count: number): SplitResult {
  // Each line takes at least its LF: a larger count cannot fit, and must not size an array.
  if (!Number.isSafeInteger(count) || count < 0 || count > body.length) {
    return count > body.length && Number.isSafeInteger(count)
      ? { ok: false, reason: 'too_few_lines' }
      : { ok: false, reason: 'bad_count' };
  }
  const lines: Buffer[] = new Array(count);
  let from = 0;
  for (let i = 0; i < count; i++) {
    const lf = body.indexOf(LF, from);
    if (lf === -1) return { ok: false, reason: from === body.length ? 'too_few_lines' : 'unterminated_line' };
    lines[i] = body.subarray(from, lf);
    from = lf + 1;
  }
  if (from === body.length) return { ok: true, lines };
  return { ok: false, reason: body.indexOf(LF, from) === -1 ? 'unterminated_line' : 'too_many_lines' };
}
