/**
 * A numbered batch of records (PROTOCOL.md §3): records `seq` … `seq + count - 1`, whose body is
 * `count` LF-terminated JSON lines. Once numbered, a batch is never re-cut: it is resent whole.
 */
export interface Batch {
  readonly seq: number;
  readonly count: number;
  readonly body: Buffer;
}

/** The number of the batch's last record. */
export function lastSeq(batch: Batch): number {
  return batch.seq + batch.count - 1;
}

/** Builds a frozen batch, so a store and a resend can share it without copying. */
export function batch(seq: number, count: number, body: Buffer): Batch {
  return Object.freeze({ seq, count, body });
}
