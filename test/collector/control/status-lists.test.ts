/**
 * The STATUS reply's lists survive the line codec whatever the names hold (`;`, quotes,
 * backslashes, line breaks), stay within their byte budget, and keep the longest prefix that fits.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeList, readStatus, statusLists } from '../../../collector/control/status-lists.js';
import { formatLine, parseLine } from '../../../shared/protocol/line.js';
import { message } from '../../../shared/protocol/message.js';

const sessionArb = fc.record({
  source: fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }),
  service: fc.string({ minLength: 1, maxLength: 20 }),
  peer: fc.string({ maxLength: 30 }),
  since: fc.nat(),
  last_ack: fc.nat(),
  acked_at: fc.nat(),
});
const markArb = fc.tuple(
  fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }),
  fc.record({ last: fc.nat(), seen: fc.nat(), lost: fc.nat() }),
);

describe('STATUS lists', () => {
  it('round-trip through the line codec, within the line budget, as a prefix of what was listed', () => {
    fc.assert(
      fc.property(
        fc.array(sessionArb, { maxLength: 60 }),
        fc.array(markArb, { maxLength: 60 }),
        fc.integer({ min: 200, max: 4000 }),
        (sessions, marks, budget) => {
          const list = encodeList(sessions, budget);
          const decoded = JSON.parse(list) as unknown[];
          expect(decoded).toEqual(sessions.slice(0, decoded.length));
          const params = statusLists(
            sessions.map((s) => ({ live: () => s })),
            new Map(marks),
            42,
          );
          const line = formatLine(message('OK', { command: 'STATUS', written: 7, ...params }));
          // The two lists under their budgets keep the whole line within the default 64 KiB.
          expect(Buffer.byteLength(line)).toBeLessThan(64 * 1024);
          const report = readStatus(parseLine(line.slice(0, -1)).params);
          expect(report.counters.written).toBe('7');
          expect(report.counters.time).toBe('42');
          expect(report.sessions).toEqual(
            [...sessions].sort((a, b) => a.since - b.since).slice(0, report.sessions.length),
          );
          const sources = [...new Map(marks)].map(([source, m]) => ({
            source,
            mark: m.last,
            seen: m.seen,
            lost: m.lost,
          }));
          expect(report.sources).toEqual(
            sources.sort((a, b) => b.seen - a.seen).slice(0, report.sources.length),
          );
          expect(Buffer.byteLength(list)).toBeLessThanOrEqual(budget);
        },
      ),
    );
  });

  it('cuts a long list to its budget, and says how many there are, even when every value is quoted', () => {
    const sessions = Array.from({ length: 5000 }, (_, i) => ({
      live: () => ({
        source: `so;"\\urce-${i}`,
        service: 'api',
        peer: `tcp/127.0.0.1:${i}`,
        since: i,
        last_ack: i,
        acked_at: i,
      }),
    }));
    const marks = Array.from({ length: 5000 }, (_, i) => [`"m;${i}`, { last: i, seen: i, lost: 0 }] as const);
    const params = statusLists(sessions, marks, 1);
    const line = formatLine(message('OK', { command: 'STATUS', ...params }));
    expect(Buffer.byteLength(line)).toBeLessThan(64 * 1024);
    const report = readStatus(parseLine(line.slice(0, -1)).params);
    expect(report.sessions[0]?.source).toBe('so;"\\urce-0');
    expect(report.counters.live_sessions).toBe('5000');
    expect(report.sessions.length).toBeGreaterThan(100);
    expect(report.sessions.length).toBeLessThan(5000);
    expect(report.sources[0]?.source).toBe('"m;4999');
  });

  it('reads an unreadable list as empty', () => {
    expect(readStatus({ command: 'STATUS', session_list: '[{', mark_list: '{}' })).toEqual({
      counters: {},
      sessions: [],
      sources: [],
    });
  });
});
