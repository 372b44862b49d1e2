/**
 * What a session hands the writer: one EVENTS batch (or a barrier), in the order received.
 * The writer answers through `done` once the batch is written and checkpointed.
 */

/** Names of the stream a batch belongs to (PROTOCOL.md §4 REGISTER, or §7 UDP fields). */
export interface Route {
  readonly source: string;
  readonly service: string;
  readonly host: string;
}

export interface BatchJob {
  readonly route: Route;
  readonly seq: number;
  readonly count: number;
  /** Undefined when the body was over max_body and discarded (§6): all count records rejected. */
  readonly body: Buffer | undefined;
  /**
   * 'session': numbers move the high-water mark and retransmissions are skipped (§4).
   * 'udp': every batch is written; numbers only feed a loss counter (§7).
   * 'ndjson': no numbers at all (§10).
   */
  readonly mode: 'session' | 'udp' | 'ndjson';
  /**
   * True when the intake already found `body` to be exactly `count` LF-terminated lines, each
   * beginning with `{` and ending with `}` (UTF-8 not checked): the shape check then scans no line.
   */
  readonly braced?: boolean;
  /** When the writer took the job (performance.now()): set by Writer.submit, for the ACK wait metric. */
  arrivedAt?: number;
  /** Called after the write is durable per the durability setting: `mark` is the source's mark. */
  readonly done: (mark: number) => void;
  /** Called when the write failed: nothing was acknowledged, the session should close. */
  readonly fail: (error: unknown) => void;
}

/**
 * The last record number of a batch, seq + count − 1, or undefined when it would pass 2^53 − 1
 * (PROTOCOL.md §1). Computed so that it is exact: `seq + count` may round before the − 1 does.
 */
export function lastRecordNumber(seq: number, count: number): number | undefined {
  return count >= 1 && count - 1 <= Number.MAX_SAFE_INTEGER - seq ? seq + (count - 1) : undefined;
}
