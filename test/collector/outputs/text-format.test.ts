import { describe, expect, it } from 'vitest';
import { formatText, formatTime } from '../../../collector/outputs/text-format.js';

const time = Date.UTC(2026, 10, 22, 23, 40, 0, 670);
const fallback = Date.UTC(2030, 0, 1);
const fmt = (record: object | string): string | undefined =>
  formatText(
    Buffer.from(typeof record === 'string' ? record : JSON.stringify(record)),
    'api',
    'web-1',
    fallback,
  );

describe('formatText', () => {
  it('lays out a pino record as in the connpipe notes', () => {
    expect(
      fmt({ level: 30, time, pid: 42, hostname: 'web-1', name: 'api', msg: 'hello', user: 'ann', n: 2 }),
    ).toBe('[2026-11-22 23:40:00.670 INFO api/web-1] hello {"user":"ann","n":2}\n');
  });

  it('omits the braces when there are no other fields', () => {
    expect(fmt({ level: 50, time, pid: 1, hostname: 'h', msg: 'boom' })).toBe(
      '[2026-11-22 23:40:00.670 ERROR api/web-1] boom\n',
    );
  });

  it.each([
    [10, 'TRACE'],
    [20, 'DEBUG'],
    [30, 'INFO'],
    [40, 'WARN'],
    [50, 'ERROR'],
    [60, 'FATAL'],
    [35, '35'],
    ['warn', 'WARN'],
  ])('names level %j %s', (level, name) => {
    expect(fmt({ level, time, msg: 'm' })).toBe(`[2026-11-22 23:40:00.670 ${name} api/web-1] m\n`);
  });

  it('keeps the record on one line and escapes control characters', () => {
    expect(fmt({ level: 30, time, msg: 'a\nb\r\tc\u001b[31m' })).toBe(
      '[2026-11-22 23:40:00.670 INFO api/web-1] a\\nb\\r\\tc\\u001b[31m\n',
    );
  });

  it('falls back for a missing or unreadable time, and reads an ISO time', () => {
    expect(fmt({ level: 30, msg: 'm' })).toBe('[2030-01-01 00:00:00.000 INFO api/web-1] m\n');
    expect(fmt({ level: 30, time: 'soon', msg: 'm' })).toBe('[2030-01-01 00:00:00.000 INFO api/web-1] m\n');
    expect(fmt({ level: 30, time: 1e20, msg: 'm' })).toBe('[2030-01-01 00:00:00.000 INFO api/web-1] m\n');
    expect(fmt({ level: 30, time: '2026-11-22T23:40:00.670Z', msg: 'm' })).toBe(
      '[2026-11-22 23:40:00.670 INFO api/web-1] m\n',
    );
  });

  it('handles a record without msg or level, and a non-string msg', () => {
    expect(fmt({ time, a: 1 })).toBe('[2026-11-22 23:40:00.670 - api/web-1] {"a":1}\n');
    expect(fmt({ time, level: 30, msg: { x: 1 } })).toBe(
      '[2026-11-22 23:40:00.670 INFO api/web-1] {"x":1}\n',
    );
  });

  it('keeps a "__proto__" field as a plain field', () => {
    expect(fmt('{"time":0,"level":30,"msg":"m","__proto__":{"polluted":1}}')).toBe(
      '[1970-01-01 00:00:00.000 INFO api/web-1] m {"__proto__":{"polluted":1}}\n',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives undefined for a line that is not a JSON object', () => {
    expect(fmt('{oops}')).toBeUndefined();
    expect(fmt('[1]')).toBeUndefined();
  });
});

describe('formatTime', () => {
  it('prints UTC with milliseconds', () => {
    expect(formatTime(time)).toBe('2026-11-22 23:40:00.670');
  });
});
