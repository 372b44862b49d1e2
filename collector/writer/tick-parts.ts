/**
 * Every output's part of one tick: staged, written, and settled. Required outputs fail the
 * tick together (every part taken back, nothing acknowledged); an optional output's failure is
 * its own: its part is taken back and its batches wait in its backlog (optional-lane.ts), while
 * the tick goes on for the others. Counters move only once the tick is committed.
 */

import type { OutputPart, RoutedBatch, TickRecords } from '../outputs/output.js';
import type { OutputEntry } from './router.js';
import type { BatchJob } from './write-job.js';

/** What one output's part wrote and rejected, per service. */
export type ServiceRecords = Map<string, TickRecords>;

/** One output's staged part and the batches it holds. */
export interface StagedPart {
  readonly entry: OutputEntry;
  readonly part: OutputPart;
  readonly records: ServiceRecords;
  /** What it stages: for an optional output, its backlog first, then `fresh`. */
  readonly taken: readonly RoutedBatch[];
  /** The batches this tick routed to it. */
  readonly fresh: readonly RoutedBatch[];
}

/** Stages each output's batches; an optional output also its backlog (or only queues them). */
export function stageParts(
  routed: ReadonlyMap<OutputEntry, RoutedBatch[]>,
  entries: readonly OutputEntry[],
  now: number,
): StagedPart[] {
  const staged: StagedPart[] = [];
  for (const entry of entries) {
    const fresh = routed.get(entry) ?? [];
    const taken = entry.lane === undefined ? fresh : entry.lane.take(fresh, now);
    if (taken.length === 0) continue;
    const records: ServiceRecords = new Map();
    const recordsOf = (job: BatchJob): TickRecords => {
      let counts = records.get(job.route.service);
      if (counts === undefined) {
        counts = { written: 0, rejected: 0 };
        records.set(job.route.service, counts);
      }
      return counts;
    };
    staged.push({ entry, part: entry.output.stage(taken, recordsOf, now), records, taken, fresh });
  }
  return staged;
}

/**
 * Writes every part (all settled before anything is undone). A failed optional part is taken
 * back and queued; a failed required part takes back every part and throws its error.
 */
export async function writeStaged(
  staged: readonly StagedPart[],
  now: number,
  onError: (error: unknown) => void,
): Promise<readonly StagedPart[]> {
  const results = await Promise.allSettled(staged.map((s) => s.part.write()));
  const requiredFailure = results.find(
    (result, i): result is PromiseRejectedResult =>
      result.status === 'rejected' && staged[i]!.entry.lane === undefined,
  );
  const undo = (s: StagedPart): Promise<void> =>
    s.part.undo().catch((undoError: unknown) => onError(undoError));
  if (requiredFailure !== undefined) {
    await Promise.all(staged.map(undo));
    for (const s of staged) {
      if (s.entry.lane !== undefined) s.entry.lane.putBack(s.taken, s.fresh);
      else s.entry.progress.failed(requiredFailure.reason);
    }
    throw requiredFailure.reason;
  }
  const written: StagedPart[] = [];
  for (let i = 0; i < staged.length; i += 1) {
    const s = staged[i]!;
    const result = results[i]!;
    if (result.status === 'fulfilled') {
      written.push(s);
      continue;
    }
    await undo(s);
    s.entry.lane?.failed(s.taken, result.reason, now);
    onError(
      new Error(
        `optional output ${s.entry.name} failed, its records wait in its backlog: ${errorText(result.reason)}`,
      ),
    );
  }
  return written;
}

/**
 * After the commit: each output's counters, and what the required outputs wrote and rejected
 * added to each service's counts (`service(name)`): an optional output's records are its own.
 */
export function countParts(written: readonly StagedPart[], service: (name: string) => TickRecords): void {
  for (const { entry, records } of written) {
    for (const [name, counts] of records) {
      entry.progress.written += counts.written;
      entry.progress.rejected += counts.rejected;
      if (entry.lane !== undefined) continue;
      const required = service(name);
      required.written += counts.written;
      required.rejected += counts.rejected;
    }
    entry.progress.succeeded();
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
