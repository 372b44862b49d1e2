/** One frame of `logwire top`: head lines, overall rate, then one row per source. */

import type { StatusReport } from '../control/status-lists.js';
import { headLines, reportTime } from './status-view.js';
import { formatDuration, formatTable } from './text-table.js';
import type { Rates } from './top-rates.js';

function rate(value: number | undefined): string {
  return value === undefined ? '-' : value.toFixed(1);
}

/** Sources with a live session first (in their order), then the other marks by recency. */
export function sourceRows(report: StatusReport, rates: Rates): string[][] {
  const now = reportTime(report);
  const marks = new Map(report.sources.map((s) => [s.source, s]));
  const rows: string[][] = [];
  for (const s of report.sessions) {
    const mark = marks.get(s.source);
    rows.push([
      s.source,
      s.service,
      s.peer,
      mark === undefined ? '-' : String(mark.mark),
      rate(rates.perSource.get(s.source)),
      mark === undefined ? '-' : String(Math.max(0, mark.mark - s.last_ack)),
      mark === undefined ? '-' : formatDuration(now - mark.seen),
    ]);
  }
  const live = new Set(report.sessions.map((s) => s.source));
  for (const m of report.sources) {
    if (live.has(m.source)) continue;
    rows.push([
      m.source,
      '-',
      '-',
      String(m.mark),
      rate(rates.perSource.get(m.source)),
      '-',
      formatDuration(now - m.seen),
    ]);
  }
  return rows;
}

export function renderTop(host: string, report: StatusReport, rates: Rates, interval: number): string {
  return [
    `logwire top  ${host}  every ${interval} ms  (q or Ctrl-C quits)`,
    ...headLines(host, report),
    `written ${rate(rates.written)} records/s`,
    '',
    formatTable(
      ['SOURCE', 'SERVICE', 'PEER', 'MARK', 'RECORDS/S', 'UNACKED', 'LAG'],
      sourceRows(report, rates),
    ),
    '',
  ].join('\n');
}
