import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CURSOR_KEY, toRecord } from '../../ship/line-record.js';
import { LineSplitter } from '../../ship/line-splitter.js';

const NOW = 1_700_000_000_000;
const FILE = { path: '/var/log/app.log', cursor: '3:120' };

describe('toRecord', () => {
  it('passes a JSON object line as it is', () => {
    expect(toRecord('{"level":30,"msg":"hi"}', NOW)).toEqual({
      kind: 'json',
      line: '{"level":30,"msg":"hi"}',
    });
  });

  it('wraps a non-JSON line as a pino-shaped record with the line as msg', () => {
    const record = toRecord('GET /index.html 200', NOW);
    expect(record.kind).toBe('wrapped');
    expect(JSON.parse(record.line)).toEqual({ level: 30, time: NOW, msg: 'GET /index.html 200' });
  });

  it('wraps JSON that is not an object, and broken JSON', () => {
    for (const text of ['[1,2]', '42', '"text"', 'null', '{"a":', '{oops}']) {
      const record = toRecord(text, NOW);
      expect(record.kind).toBe('wrapped');
      expect(JSON.parse(record.line).msg).toBe(text);
    }
  });

  it('drops a trailing CR and skips blank lines', () => {
    expect(toRecord('{"a":1}\r', NOW).line).toBe('{"a":1}');
    expect(toRecord('   ', NOW).kind).toBe('empty');
  });

  it('puts the cursor first and the file path in a file field', () => {
    const record = toRecord('{"a":1}', NOW, FILE);
    expect(record.line.startsWith(`{"${CURSOR_KEY}":"3:120"`)).toBe(true);
    expect(JSON.parse(record.line)).toEqual({ [CURSOR_KEY]: '3:120', file: FILE.path, a: 1 });
    expect(JSON.parse(toRecord('{}', NOW, FILE).line)).toEqual({ [CURSOR_KEY]: '3:120', file: FILE.path });
  });

  it("keeps a record's own file field", () => {
    expect(JSON.parse(toRecord('{"file":"mine"}', NOW, FILE).line).file).toBe('mine');
  });

  it('makes one JSON object line of any input line, keeping its content (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }).filter((s) => !s.includes('\n') && !s.endsWith('\r')),
        fc.boolean(),
        (text, fromFile) => {
          const record = toRecord(text, NOW, fromFile ? FILE : undefined);
          if (text.trim() === '') return record.kind === 'empty';
          expect(record.line).not.toContain('\n');
          const value = JSON.parse(record.line) as Record<string, unknown>;
          expect(typeof value).toBe('object');
          if (record.kind === 'wrapped') expect(value.msg).toBe(text);
          else expect(value).toMatchObject(JSON.parse(text) as object);
          if (fromFile) expect(value[CURSOR_KEY]).toBe(FILE.cursor);
          return true;
        },
      ),
    );
  });

  it('keeps JSON objects whole (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
        const text = JSON.stringify(object);
        const record = toRecord(text, NOW);
        expect(record.kind).toBe('json');
        expect(JSON.parse(record.line)).toEqual(JSON.parse(text));
      }),
    );
  });
});

describe('LineSplitter', () => {
  it('gives each line with the offset after its LF, across any chunking (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme' }).map((s) => s.replace(/\n/g, ' '))),
        fc.array(fc.nat(), { maxLength: 8 }),
        (lines, cuts) => {
          const bytes = Buffer.from(lines.map((line) => `${line}\n`).join(''));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const splitter = new LineSplitter(10);
          const got: { text: string; end: number }[] = [];
          let from = 0;
          for (const point of [...points, bytes.length]) {
            got.push(...splitter.push(bytes.subarray(from, point)));
            from = point;
          }
          expect(got.map((l) => l.text)).toEqual(lines);
          let end = 10;
          for (const [i, line] of lines.entries()) {
            end += Buffer.byteLength(line) + 1;
            expect(got[i]!.end).toBe(end);
          }
          expect(splitter.finish()).toBeUndefined();
        },
      ),
    );
  });
});
