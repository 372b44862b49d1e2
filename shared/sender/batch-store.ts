import { LogwireError } from '../errors.js';
import { type Batch, lastSeq } from './batch.js';

/**
 * Where numbered batches wait until the collector acknowledges them: in memory (MemoryStore) or
 * on disk (SpoolStore). Both pass one shared suite (test/shared/sender/batch-store.suite.ts).
 * The store also owns the numbering, so a spool can keep it across restarts (PROTOCOL.md §3).
 *
 * ```
 *   reserve(count) ─▶ numbers ─▶ append(batch) ─▶ held ─▶ ack(last) ─▶ forgotten
 *                                  (durable)      unacked() for resend after READY
 * ```
 */
export interface BatchStore {
  /** The number the next reserved record gets. */
  readonly nextSeq: number;
  /** The lowest number still held (the first unacknowledged), or `nextSeq` when none is. */
  readonly firstSeq: number;
  /** Body bytes held, including appends not yet resolved. Checked against `maxBytes`. */
  readonly bytes: number;
  /** Batches held, including appends not yet resolved. */
  readonly batches: number;
  /** The bound on `bytes`; `Infinity` when unbounded. */
  readonly maxBytes: number;

  /**
   * Hands out `count` consecutive numbers and returns the first. A spool makes them durable
   * before any batch carrying them is appended, so a restart never numbers a record twice.
   */
  reserve(count: number): number;

  /**
   * Holds a batch numbered by `reserve`, after every batch appended before it. Resolves once the
   * batch is held (on disk, for the spool); only then may it be sent. Rejects, holding nothing,
   * with LW_ERR_QUEUE_FULL when `bytes + body` would pass `maxBytes`, LW_ERR_BAD_PARAM when the
   * batch is out of order or unreserved, LW_ERR_CLOSED after close, LW_ERR_SPOOL on a disk error.
   */
  append(batch: Batch): Promise<void>;

  /** Forgets every batch whose last record is ≤ `last` (cumulative; a lower `last` is a no-op). */
  ack(last: number): void | Promise<void>;

  /** The held batches, oldest first, as a snapshot (O(batches)): what to resend after READY. */
  unacked(): readonly Batch[];

  /** Waits for pending appends, keeps what is unacknowledged (spool) and releases resources. */
  close(): Promise<void>;

  /** The last collector body limit this store remembers across runs (a spool), if any. */
  readonly maxBody?: number | undefined;
  /** Remembers the collector's body limit from READY (a spool keeps it for the next run). */
  rememberMaxBody?(maxBody: number): void;
}

/** Checks the append contract shared by both stores; returns the error to reject with, if any. */
export function appendError(
  batch: Batch,
  store: { readonly nextSeq: number; readonly bytes: number; readonly maxBytes: number },
  lastAppended: number,
): LogwireError | undefined {
  const { seq, count, body } = batch;
  if (!Number.isSafeInteger(seq) || seq < 1 || !Number.isSafeInteger(count) || count < 1) {
    return new LogwireError('LW_ERR_BAD_PARAM', `batch seq=${seq};count=${count}: both must be integers ≥ 1`);
  }
  if (seq <= lastAppended || lastSeq(batch) >= store.nextSeq) {
    return new LogwireError(
      'LW_ERR_BAD_PARAM',
      `batch seq=${seq};count=${count} is out of order: it must start after ${lastAppended} ` +
        `(the last appended record) and end before ${store.nextSeq} (the next unreserved number)`,
    );
  }
  if (store.bytes + body.length > store.maxBytes) {
    return new LogwireError(
      'LW_ERR_QUEUE_FULL',
      `batch seq=${seq} (${body.length} bytes) does not fit: ${store.bytes} of ${store.maxBytes} bytes held`,
    );
  }
  return undefined;
}

/** Checks a `reserve` count. */
export function checkReserveCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new LogwireError('LW_ERR_BAD_PARAM', `reserve(${count}): the count must be an integer ≥ 1`);
  }
}
