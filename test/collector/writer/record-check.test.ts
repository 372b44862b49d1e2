import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonChunks } from '../../../collector/outputs/json-format.js';
import { checkRecord, scanShape, splitBatch } from '../../../collector/writer/record-check.js';

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

/** What the writer did before scanShape: splitBatch, checkRecord per line, jsonChunks. */
function lineByLine(body: Buffer, count: number, skip: number) {
  const split = splitBatch(body, count);
  if (!split.ok) return split;
  const good: Buffer[] = [];
  const rejected: Array<{ line: string; reason: string }> = [];
  for (const line of split.lines.slice(skip)) {
    const reason = checkRecord(line);
    if (reason === undefined) good.push(line);
    else rejected.push({ line: line.toString('latin1'), reason });
  }
  const chunks = jsonChunks(body, good).map((c) => c.toString('latin1'));
  return { ok: true as const, chunks, good: good.length, rejected };
}

function scanned(body: Buffer, count: number, skip: number) {
  const scan = scanShape(body, count, skip);
  if (scan === undefined || !scan.ok) return scan;
  return {
    ok: true as const,
    chunks: scan.chunks.map((c) => c.toString('latin1')),
    good: scan.good,
    rejected: scan.rejected.map((r) => ({ line: r.line.toString('latin1'), reason: r.reason })),
  };
}

describe('scanShape', () => {
  it('gives a clean body back as one view', () => {
    const body = b('{"a":1}\n{"b":2}\n');
    const scan = scanShape(body, 2, 0);
    expect(scan).toMatchObject({ ok: true, good: 2, rejected: [] });
    if (scan?.ok !== true) return;
    expect(scan.chunks).toHaveLength(1);
    expect(scan.chunks[0]!.buffer).toBe(body.buffer);
    expect(scan.chunks[0]!.length).toBe(body.length);
  });

  it('skips the first records, rejects empty lines and other shapes', () => {
    expect(scanned(b('{"a":1}\n{"b":2}\n\n[3]\n{"c":4}\n'), 5, 1)).toEqual({
      ok: true,
      chunks: ['{"b":2}\n', '{"c":4}\n'],
      good: 2,
      rejected: [
        { line: '', reason: 'empty_line' },
        { line: '[3]', reason: 'not_an_object' },
      ],
    });
  });

  it('leaves a body that is not valid UTF-8 to the line-by-line check', () => {
    expect(scanShape(Buffer.from([0x7b, 0xff, 0x7d, 0x0a]), 1, 0)).toBeUndefined();
  });

  it.each([
    ['{"a":1}\n', 2, 'too_few_lines'],
    ['{"a":1}\n{"b":2}\n', 1, 'too_many_lines'],
    ['{"a":1}\n{"b":2}', 2, 'unterminated_line'],
    ['\n', 1.5, 'bad_count'],
  ] as const)('rejects %j with count %d as splitBatch does: %s', (body, count, reason) => {
    expect(scanShape(b(body), count, 0)).toEqual({ ok: false, reason });
  });

  it('agrees with splitBatch + checkRecord + jsonChunks on any body, count and skip', () => {
    const piece = fc.oneof(
      fc.constantFrom('{"a":1}', '{}', '', '[1]', '{"a":1', ' {}', '{}\r', '{"é":"🙂"}', '\n', '{\n}'),
      fc.string({ maxLength: 6 }),
      fc.uint8Array({ maxLength: 4 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(piece, fc.boolean()), { maxLength: 12 }),
        fc.integer({ min: -1, max: 14 }),
        fc.integer({ min: 0, max: 14 }),
        fc.boolean(),
        (pieces, count, skip, latin1) => {
          const text = pieces.map(([p, lf]) => (lf ? `${p}\n` : p)).join('');
          // latin1 keeps arbitrary bytes (often invalid UTF-8); utf8 encodes the strings.
          const body = Buffer.from(text, latin1 ? 'latin1' : 'utf8');
          const expected = lineByLine(body, count, Math.min(skip, Math.max(count, 0)));
          const scan = scanned(body, count, Math.min(skip, Math.max(count, 0)));
          if (scan === undefined) {
            // Only a body with invalid UTF-8 is handed back (the writer then does lineByLine).
            expect(isUtf8(body)).toBe(false);
          } else {
            expect(scan).toEqual(expected);
          }
        },
      ),
    );
  });
});

describe('scanShape of a braced body (BatchJob.braced)', () => {
  it('gives what the full scan gives, and still sends invalid UTF-8 line by line', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 8 }).map((s) => `{${s.replace(/\n/g, '')}}`),
      fc.constant('{\u00e9}'),
      fc.constant('{\xff}'), // stands for a byte that is not UTF-8, put in below
    );
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 10 }), (lines) => {
        const body = Buffer.concat(
          lines.map((l) => (l === '{\xff}' ? Buffer.from([0x7b, 0xff, 0x7d, 10]) : Buffer.from(`${l}\n`))),
        );
        const braced = scanShape(body, lines.length, 0, true);
        expect(braced).toEqual(scanShape(body, lines.length, 0));
        if (lines.includes('{\xff}')) expect(braced).toBeUndefined();
        else expect(braced).toEqual({ ok: true, chunks: [body], good: lines.length, rejected: [] });
      }),
    );
  });
});
