import { isUtf8 } from 'node:buffer';
import type { Validation } from '../config/config-types.js';

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
  const problem = countProblem(body, count);
  if (problem !== undefined) return { ok: false, reason: problem };
  const lines: Buffer[] = new Array(count);
  let from = 0;
  for (let i = 0; i < count; i++) {
    const lf = body.indexOf(LF, from);
    if (lf === -1) return { ok: false, reason: missingLf(body, from) };
    lines[i] = body.subarray(from, lf);
    from = lf + 1;
  }
  if (from === body.length) return { ok: true, lines };
  return { ok: false, reason: extraBytes(body, from) };
}

/** A record line the shape check rejected, and why. */
export interface RejectedLine {
  readonly line: Buffer;
  readonly reason: RecordRejectReason;
}

export type ShapeScan =
  | {
      readonly ok: true;
      /** The accepted records with their LFs, adjacent ones as one view: a clean body is one chunk. */
      readonly chunks: Buffer[];
      readonly good: number;
      /** In body order. */
      readonly rejected: RejectedLine[];
    }
  | { readonly ok: false; readonly reason: BatchRejectReason };

/**
 * splitBatch, then checkRecord (shape) on every line from `skip` on, then jsonChunks, in one
 * pass without a Buffer per line: the writer's hot path for the `json` format. UTF-8 is
 * checked once over the whole body (an LF never falls inside a multi-byte sequence, so a
 * valid body has only valid lines); when the body is not valid UTF-8 it returns undefined and
 * the caller checks line by line, so the verdicts are exactly those of checkRecord. `braced`
 * says the body is already known to be `count` lines that each pass the brace check
 * (BatchJob.braced): then only UTF-8 is left to check, and no line is scanned again.
 */
export function scanShape(body: Buffer, count: number, skip: number, braced = false): ShapeScan | undefined {
  const problem = countProblem(body, count);
  if (problem !== undefined) return { ok: false, reason: problem };
  if (!isUtf8(body)) return undefined;
  if (braced && skip === 0) return { ok: true, chunks: [body], good: count, rejected: [] };
  const chunks: Buffer[] = [];
  const rejected: RejectedLine[] = [];
  let good = 0;
  let start = -1;
  let end = -1;
  let from = 0;
  for (let i = 0; i < count; i++) {
    const lf = body.indexOf(LF, from);
    if (lf === -1) return { ok: false, reason: missingLf(body, from) };
    if (i >= skip) {
      if (lf > from && body[from] === OPEN_BRACE && body[lf - 1] === CLOSE_BRACE) {
        if (from !== end) {
          if (start >= 0) chunks.push(body.subarray(start, end));
          start = from;
        }
        end = lf + 1;
        good += 1;
      } else {
        rejected.push({
          line: body.subarray(from, lf),
          reason: lf === from ? 'empty_line' : 'not_an_object',
        });
      }
    }
    from = lf + 1;
  }
  if (from !== body.length) return { ok: false, reason: extraBytes(body, from) };
  if (start >= 0) chunks.push(body.subarray(start, end));
  return { ok: true, chunks, good, rejected };
}

/** Why `count` cannot be the line count of `body` at all, if it cannot. */
function countProblem(body: Buffer, count: number): BatchRejectReason | undefined {
  // Each line takes at least its LF: a larger count cannot fit, and must not size an array.
  if (Number.isSafeInteger(count) && count >= 0 && count <= body.length) return undefined;
  return count > body.length && Number.isSafeInteger(count) ? 'too_few_lines' : 'bad_count';
}

/** No LF after `from`: the body ran out of lines (or ends inside one). */
function missingLf(body: Buffer, from: number): BatchRejectReason {
  return from === body.length ? 'too_few_lines' : 'unterminated_line';
}

/** Bytes after the `count`-th line: another line, or an unterminated one. */
function extraBytes(body: Buffer, from: number): BatchRejectReason {
  return body.indexOf(LF, from) === -1 ? 'unterminated_line' : 'too_many_lines';
}
