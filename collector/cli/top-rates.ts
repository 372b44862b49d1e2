/**
 * Per-source rates for `logwire top`: records per second from two successive STATUS replies,
 * the difference of each source's mark over the difference of the collector's own `time`.
 */

import type { StatusReport } from '../control/status-lists.js';
import { counter, reportTime } from './status-view.js';

export interface Rates {
  /** Records per second per source; absent for a source seen once so far. */
  readonly perSource: ReadonlyMap<string, number>;
  /** `written` per second overall; undefined on the first reply. */
  readonly written: number | undefined;
}

interface Snapshot {
  readonly time: number;
  readonly written: number;
  readonly marks: ReadonlyMap<string, number>;
}

export class RateTracker {
  #previous: Snapshot | undefined;

  /** Takes the next reply and returns the rates since the previous one. */
  next(report: StatusReport): Rates {
    const current: Snapshot = {
      time: reportTime(report),
      written: counter(report, 'written'),
      marks: new Map(report.sources.map((s) => [s.source, s.mark])),
    };
    const previous = this.#previous;
    this.#previous = current;
    const seconds = previous === undefined ? 0 : (current.time - previous.time) / 1000;
    if (previous === undefined || seconds <= 0) return { perSource: new Map(), written: undefined };
    const perSource = new Map<string, number>();
    for (const [source, mark] of current.marks) {
      const before = previous.marks.get(source);
      // A new source (or one back in the list) gets its rate at the next reply.
      if (before !== undefined && mark >= before) perSource.set(source, (mark - before) / seconds);
    }
    return { perSource, written: Math.max(0, current.written - previous.written) / seconds };
  }
}
