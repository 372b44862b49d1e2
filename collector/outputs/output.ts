/**
 * Where records go once the writer has routed them. The writer's tick, for every output alike:
 *
 *   route (writer/router.ts) ─▶ stage: each output takes its batches ─▶ declare ─▶ write
 *     ─▶ commit: one checkpoint save (the marks, and what each output noted) ─▶ answer (ACK)
 *
 * An output says what "written" means for it and what the checkpoint must hold with the marks
 * so that a crash loses or doubles nothing: the file output declares each file's tail before
 * writing and notes file lengths after (outputs/file-output.ts). A relay to an upstream
 * collector would append to a local spool in `write`, note the spool position with the marks,
 * and free spooled batches on the upstream ACK; a JetStream output would resolve `write` on
 * PubAck and note nothing. The writer knows only this interface.
 */

import type { BatchJob } from '../writer/write-job.js';

/** One batch as an output takes it. */
export interface RoutedBatch {
  readonly job: BatchJob;
  /** Records at its head already at or below the source's mark (retransmissions): not written. */
  readonly skip: number;
  /** Where in the output the router sent it (for files: a path relative to the output directory). */
  readonly path: string;
  /**
   * The records this output takes, `count` of them with `skip` at the head: the job's own body
   * and count, or, when routing by level splits the batch, a copy of the records routed here
   * (then `skip` is 0). Outputs read these, not `job.body`.
   */
  readonly body: Buffer | undefined;
  readonly count: number;
}

/** Records one tick wrote and rejected, added to the counters once the tick is committed. */
export interface TickRecords {
  written: number;
  rejected: number;
}

/** Runs a checkpoint step, retrying while the state directory refuses (CheckpointHealth.untilSaved). */
export type SaveStep = (step: () => Promise<void>) => Promise<void>;

/** An output's part of one tick, staged and not yet written. */
export interface OutputPart {
  /** Makes durable, before the first byte, what recovery needs to take this write back. */
  declare(save: SaveStep): Promise<void>;
  /** Writes the part; on success notes in the checkpoint what the commit saves with the marks. */
  write(): Promise<void>;
  /** After a failed tick: takes back what did land, so the clients' resends are written once. */
  undo(): Promise<void>;
  /** After the commit (marks and notes saved), before the ACKs: what was written is now for good. */
  committed?(): void;
}

export interface Output {
  /** Takes one tick's batches routed here: checks and renders them, counting each into `records(job)`. */
  stage(batches: readonly RoutedBatch[], records: (job: BatchJob) => TickRecords, now: number): OutputPart;
  /** Gets ready for a new session's batches ahead of the first (best effort, never fails). */
  prepare(path: string): void;
  /** logrotate's LOG: lets go of what it holds open; the next write opens anew. */
  reopen(): Promise<void>;
  close(): Promise<void>;
}
