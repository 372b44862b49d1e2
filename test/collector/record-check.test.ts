import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRecord, splitBatch } from '../../collector/record-check.js';

const b = (text: string): Buffer => Buffer.from(text);

describe('checkRecord', () => {
  describe('shape (default)', () => {
    it('accepts a line that begins with { and ends with }', () => {
      expect(checkRecord(b('{"level":30,"msg":"hi"}'))).toBeUndefined();
      expect(checkRecord(b('{oops}'))).toBeUndefined(); // shape only, as documented
    });

    it('rejects other shapes with not_an_object', () => {
      for (const line of ['[1,2]', '"x"', '42', '{"a":1', '"a":1}', ' {"a":1}', '{"a":1}\r']) {
        expect(checkRecord(b(line)), line).toBe('not_an_object');
      }
    });

    it('rejects an empty line', () => {
      expect(checkRecord(Buffer.alloc(0))).toBe('empty_line');
    });

    it('rejects invalid UTF-8', () => {
      expect(checkRecord(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toBe('invalid_utf8');
      expect(checkRecord(Buffer.from([0x7b, 0xc3, 0x7d]))).toBe('invalid_utf8'); // truncated sequence
      expect(checkRecord(b('{"msg":"héllo 🙂"}'))).toBeUndefined();
    });
  });

  describe('full', () => {
    it('accepts exactly JSON objects', () => {
      expect(checkRecord(b('{"a":[1,{"b":null}]}'), 'full')).toBeUndefined();
      expect(checkRecord(b('{}'), 'full')).toBeUndefined();
    });

    it('rejects what does not parse, and parsed values that are not objects', () => {
      expect(checkRecord(b('{oops}'), 'full')).toBe('invalid_json');
      expect(checkRecord(b('{"a":1'), 'full')).toBe('invalid_json');
      expect(checkRecord(b('[1]'), 'full')).toBe('not_an_object');
      expect(checkRecord(b('null'), 'full')).toBe('not_an_object');
      expect(checkRecord(b('"s"'), 'full')).toBe('not_an_object');
    });

    it('checks UTF-8 before parsing (no U+FFFD smuggling)', () => {
      expect(checkRecord(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), 'full')).toBe(
        'invalid_utf8',
      );
    });

    it('agrees with JSON.parse on arbitrary JSON values', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => {
          const verdict = checkRecord(b(JSON.stringify(value)), 'full');
          const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
          expect(verdict === undefined).toBe(isObject);
        }),
      );
    });
  });
});

describe('splitBatch', () => {
  it('returns the count lines as views without their LF', () => {
    const body = b('{"a":1}\n{"b":2}\n');
    const split = splitBatch(body, 2);
    expect(split.ok).toBe(true);
    if (!split.ok) return;
    expect(split.lines.map(String)).toEqual(['{"a":1}', '{"b":2}']);
    // Views share the body's memory: no copy.
    expect(split.lines[0]!.buffer).toBe(body.buffer);
    expect(split.lines[1]!.byteOffset - body.byteOffset).toBe(8);
  });

  it('keeps empty lines (the record check rejects them)', () => {
    const split = splitBatch(b('\n{}\n'), 2);
    expect(split.ok && split.lines.map(String)).toEqual(['', '{}']);
  });

  it('accepts an empty body with count 0', () => {
    expect(splitBatch(Buffer.alloc(0), 0)).toEqual({ ok: true, lines: [] });
  });

  it.each([
    ['{"a":1}\n', 2, 'too_few_lines'],
    ['{"a":1}\n{"b":2}\n', 1, 'too_many_lines'],
    ['{"a":1}\n{"b":2}', 2, 'unterminated_line'],
    ['{"a":1}\n{"b":2}', 1, 'unterminated_line'],
    ['{"a":1}', 1, 'unterminated_line'],
    ['x', 5, 'too_few_lines'],
    ['', 1, 'too_few_lines'],
    ['\n', -1, 'bad_count'],
    ['\n', 1.5, 'bad_count'],
  ] as const)('rejects %j with count %d: %s', (body, count, reason) => {
    expect(splitBatch(b(body), count)).toEqual({ ok: false, reason });
  });

  it('does not size an array from a huge count', () => {
    expect(splitBatch(b('{}\n'), 2 ** 40)).toEqual({ ok: false, reason: 'too_few_lines' });
  });

  it('gives back the N lines a body was built from', () => {
    fc.assert(
      fc.property(fc.array(fc.dictionary(fc.string(), fc.jsonValue()), { maxLength: 40 }), (objects) => {
        const lines = objects.map((o) => JSON.stringify(o));
        const body = Buffer.from(lines.map((l) => `${l}\n`).join(''));
        const split = splitBatch(body, lines.length);
        expect(split.ok && split.lines.map((l) => l.toString('utf8'))).toEqual(lines);
        if (lines.length > 0) expect(splitBatch(body, lines.length + 1).ok).toBe(false);
        if (lines.length > 0) expect(splitBatch(body, lines.length - 1).ok).toBe(false);
      }),
    );
  });
});
