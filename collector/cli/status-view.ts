/**
 * `logwire status` as text: the state line, the live sessions, the sources' marks and every
 * counter. `top` adds rates to the same parts (top-view.ts).
 */

import type { StatusReport } from '../control/status-lists.js';
import { formatBytes, formatDuration, formatTable, formatTime } from './text-table.js';

/** Counters shown in the head lines rather than in the counter table. */
const HEAD = new Set([
  'state',
  'uptime_ms',
  'time',
  'listeners',
  'links',
  'live_sessions',
  'sources',
  'queued_bytes',
]);

export function counter(report: StatusReport, name: string): number {
  const text = report.counters[name];
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : 0;
}

/** The collector's own clock when the reply carries it, so ages do not depend on ours. */
export function reportTime(report: StatusReport): number {
  return counter(report, 'time') || Date.now();
}

export function headLines(host: string, report: StatusReport): string[] {
  const c = (name: string): number => counter(report, name);
  return [
    `logwire collector ${host}: ${report.counters.state ?? 'unknown'}, up ${formatDuration(c('uptime_ms'))}`,
    `listeners ${c('listeners')}  links ${c('links')}  live sessions ${c('live_sessions')}  ` +
      `sources ${c('sources')}  queued ${formatBytes(c('queued_bytes'))}`,
  ];
}

export function sessionTable(report: StatusReport): string {
  const now = reportTime(report);
  if (report.sessions.length === 0) return 'no live session';
  return formatTable(
    ['SOURCE', 'SERVICE', 'PEER', 'SINCE (UTC)', 'LAST ACK', 'ACKED'],
    report.sessions.map((s) => [
      s.source,
      s.service,
      s.peer,
      formatTime(s.since),
      String(s.last_ack),
      `${formatDuration(now - s.acked_at)} ago`,
    ]),
  );
}

export function sourceTable(report: StatusReport): string {
  const now = reportTime(report);
  if (report.sources.length === 0) return 'no source has a mark';
  return formatTable(
    ['SOURCE', 'MARK', 'LOST', 'LAST ACTIVE'],
    report.sources.map((s) => [
      s.source,
      String(s.mark),
      String(s.lost),
      `${formatDuration(now - s.seen)} ago`,
    ]),
  );
}

export function counterTable(report: StatusReport): string {
  const rows = Object.entries(report.counters)
    .filter(([name]) => !HEAD.has(name))
    .map(([name, value]) => [name, value]);
  return formatTable(['COUNTER', 'VALUE'], rows);
}

/** A note when a list was cut to fit the reply's line. */
function listed(shown: number, total: number, what: string): string {
  return shown < total ? ` (${shown} of ${total} shown: the most recent ${what})` : '';
}

export function renderStatus(host: string, report: StatusReport): string {
  return [
    ...headLines(host, report),
    '',
    `SESSIONS${listed(report.sessions.length, counter(report, 'live_sessions'), 'longest-running')}`,
    sessionTable(report),
    '',
    `SOURCES${listed(report.sources.length, counter(report, 'sources'), 'active')}`,
    sourceTable(report),
    '',
    counterTable(report),
    '',
  ].join('\n');
}

/** `--json`: `{host, counters, sessions, sources}`, counters as numbers where they are numbers. */
export function statusJson(host: string, report: StatusReport): string {
  const counters = Object.fromEntries(
    Object.entries(report.counters).map(([name, value]) => [
      name,
      /^\d+$/.test(value) ? Number(value) : value,
    ]),
  );
  return `${JSON.stringify({ host, counters, sessions: report.sessions, sources: report.sources }, null, 2)}\n`;
}
