import type { Batch } from '../shared/sender/batch.js';
import type { PendingBatch } from '../shared/sender/record-queue.js';
import { formatCloseReport } from './close-report.js';
import type { Pipeline } from './pipeline.js';

/**
 * Delivery is no longer waited for (closeTimeout ran out, or the process exits): everything not
 * delivered goes to `fallback`, and one line on stderr says how much and why (issue #4: never
 * silently gone).
 */

export interface GiveUp {
  readonly cause: 'closeTimeout' | 'exit';
  /** The collector's address and state, or the last connection error. */
  readonly peer: string;
  /** Records already counted undelivered (written after the end). */
  readonly undeliveredBefore: number;
  readonly closeTimeout: number;
  readonly fallbackName: string | undefined;
  readonly spoolDir: string | undefined;
}

/** Reports and writes the rest to fallback; returns the records it counted undelivered. */
export function giveUp(pipeline: Pipeline, how: GiveUp, stderr: (line: string) => void): number {
  const { shipper, queue, fallback } = pipeline;
  const left = queue.takeAll();
  const spooling = shipper.spooling;
  // Numbered, but the store has not taken them yet: in memory only, or not (all) on disk. A
  // spool writes one batch at a time, so only the first of them can be on disk already.
  const inAppend = shipper.appendingBatches();
  const unacked = spooling ? [] : [...shipper.unacked(), ...inAppend];
  const spoolPending = spooling ? inAppend : [];
  const rest: (Batch | PendingBatch)[] = [...unacked, ...left, ...spoolPending];
  const records = rest.reduce((sum, batch) => sum + batch.count, 0);
  const pendingRecords = spoolPending.reduce((sum, batch) => sum + batch.count, 0);
  const line = formatCloseReport({
    cause: how.cause,
    acknowledging: shipper.acknowledging,
    undelivered: how.undeliveredBefore + records - pendingRecords,
    overflow: queue.dropped,
    tooLarge: pipeline.tooLarge + shipper.counters.dropped,
    leftInSpool: spooling ? shipper.unacknowledged - pendingRecords : 0,
    spoolPending: pendingRecords,
    maybeInSpool: spoolPending[0]?.count ?? 0,
    closeTimeout: how.closeTimeout,
    fallback: how.fallbackName,
    peer: how.peer,
    spoolDir: how.spoolDir,
  });
  // The count first: writing a large rest to fallback may take longer than the app waits.
  if (line !== undefined) stderr(line);
  for (const batch of rest) fallback.write(batch.body);
  // At exit the fallback stays open: an 'exit' listener after this one may still log.
  if (how.cause === 'closeTimeout') fallback.close();
  return records;
}
