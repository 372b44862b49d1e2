/**
 * What one writer tick did, per service: the record counters the writer keeps (written,
 * retransmitted, gaps, rejected), the records and body bytes it took, how long the tick took,
 * and how long each session batch waited from its arrival to its commit (what its ACK waited
 * for). Handed on (WriterDeps.onCommitted) only once the tick is written and saved.
 */

import type { CollectorCounters } from '../counters.js';
import type { BatchJob } from './write-job.js';

/** The record counters one tick moves, as CollectorCounters names them. */
export type TickCounts = Pick<CollectorCounters, 'written' | 'retransmitted' | 'gaps' | 'rejected'>;

export interface ServiceTick extends TickCounts {
  /** Records in the batches taken (written, rejected or retransmitted). */
  records: number;
  /** Body bytes of those batches. */
  bytes: number;
}

export interface CommittedTick {
  readonly services: ReadonlyMap<string, ServiceTick>;
  /** From the tick's start to its saved checkpoint, in ms. */
  readonly durationMs: number;
  /** For each session batch: from its arrival to its commit, in ms. */
  readonly ackWaitsMs: readonly number[];
}

/** Notes when a session batch reached the writer, for ackWaitsMs (only those are ACKed). */
export function noteArrival(job: BatchJob): void {
  if (job.mode === 'session') job.arrivedAt = performance.now();
}

export class TickTally {
  readonly #started = performance.now();
  readonly #services = new Map<string, ServiceTick>();
  readonly #jobs: BatchJob[] = [];

  /** `job` joins the tick: the counts of its service, to add this job's outcome to. */
  take(job: BatchJob): TickCounts {
    const counts = this.countsOf(job.route.service);
    counts.records += job.count;
    counts.bytes += job.body?.length ?? 0;
    this.#jobs.push(job);
    return counts;
  }

  /**
   * The counts of `service`: what the required outputs wrote and rejected for it is added here
   * once the tick is committed (tick-parts.ts countParts).
   */
  countsOf(service: string): ServiceTick {
    let counts = this.#services.get(service);
    if (counts === undefined) {
      counts = { written: 0, retransmitted: 0, gaps: 0, rejected: 0, records: 0, bytes: 0 };
      this.#services.set(service, counts);
    }
    return counts;
  }

  /** Every service's counts added up. */
  total(): TickCounts {
    const sum: TickCounts = { written: 0, retransmitted: 0, gaps: 0, rejected: 0 };
    for (const counts of this.#services.values()) {
      sum.written += counts.written;
      sum.retransmitted += counts.retransmitted;
      sum.gaps += counts.gaps;
      sum.rejected += counts.rejected;
    }
    return sum;
  }

  /** The tick as committed, now. */
  committed(): CommittedTick {
    const now = performance.now();
    const ackWaitsMs: number[] = [];
    for (const job of this.#jobs) {
      if (job.mode === 'session' && job.arrivedAt !== undefined) ackWaitsMs.push(now - job.arrivedAt);
    }
    return { services: this.#services, durationMs: now - this.#started, ackWaitsMs };
  }
}
