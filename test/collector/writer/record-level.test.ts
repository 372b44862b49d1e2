import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LEVELS, readLevel } from '../../../collector/writer/record-level.js';

/** What JSON.parse says the level is, as readLevel reads it. */
function parsedLevel(line: string): number | undefined {
  const value: unknown = JSON.parse(line);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const level = (value as Record<string, unknown>).level;
  if (typeof level === 'number') return level;
  if (typeof level === 'string' && Object.hasOwn(LEVELS, level)) return LEVELS[level];
  return undefined;
}

const levelValue = fc.oneof(
  fc.constantFrom(10, 20, 30, 40, 50, 60),
  fc.integer({ min: -1000, max: 1_000_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom('trace', 'debug', 'info', 'warn', 'error', 'fatal', 'loud'),
  fc.jsonValue(),
);

/** pino-like records: level first (pino's way) or anywhere, nested levels, strings that look like one. */
const record = fc
  .record({
    first: fc.boolean(),
    level: fc.option(levelValue, { nil: undefined }),
    rest: fc.dictionary(
      fc.oneof(fc.string(), fc.constantFrom('msg', 'time', 'levels', 'lvl')),
      fc.oneof(fc.jsonValue(), fc.constant('"level":50'), fc.constant({ level: 60, x: ['"level":10'] })),
    ),
  })
  .map(({ first, level, rest }) => {
    const { level: _drop, ...others } = rest as Record<string, unknown>;
    if (level === undefined) return others;
    return first ? { level, ...others } : { ...others, level };
  });

describe('readLevel', () => {
  it('agrees with JSON.parse on pino-like records', () => {
    fc.assert(
      fc.property(record, (value) => {
        const line = JSON.stringify(value);
        const level = readLevel(Buffer.from(line));
        const expected = parsedLevel(line);
        if (expected === undefined) expect(level).toBeUndefined();
        else expect(level).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads pino output, a slice of a body, labels and spaced JSON', () => {
    expect(readLevel(Buffer.from('{"level":40,"time":1,"msg":"x"}'))).toBe(40);
    const body = Buffer.from('{"level":30}\n{"level":50,"msg":"b"}\n');
    expect(readLevel(body, 13, body.length - 1)).toBe(50);
    expect(readLevel(Buffer.from('{"level":"warn"}'))).toBe(40);
    expect(readLevel(Buffer.from(' { "msg" : "\\"level\\":60" , "level" : 20 }'))).toBe(20);
    expect(readLevel(Buffer.from('{"req":{"level":60},"msg":"m"}'))).toBeUndefined();
  });

  it('reads nothing from lines that are not objects or not JSON', () => {
    for (const line of ['[{"level":50}]', '"level":50', 'level 50', '', '{"level":}', '{"level":"loud"}'])
      expect(readLevel(Buffer.from(line))).toBeUndefined();
  });
});
