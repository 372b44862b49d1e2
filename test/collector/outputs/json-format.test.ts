import { describe, expect, it } from 'vitest';
import { jsonChunks } from '../../../collector/outputs/json-format.js';
import { splitBatch } from '../../../collector/writer/record-check.js';

function lines(body: Buffer, count: number): Buffer[] {
  const split = splitBatch(body, count);
  if (!split.ok) throw new Error(split.reason);
  return split.lines;
}

describe('jsonChunks', () => {
  const body = Buffer.from('{"a":1}\n{"b":2}\n[3]\n{"d":4}\n');

  it('writes a clean batch as one view of the body', () => {
    const chunks = jsonChunks(body, lines(body, 4));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.buffer).toBe(body.buffer);
    expect(chunks[0]!.toString()).toBe(body.toString());
  });

  it('cuts around skipped and rejected lines, keeping each LF', () => {
    const all = lines(body, 4);
    const chunks = jsonChunks(body, [all[1]!, all[3]!]);
    expect(chunks.map(String)).toEqual(['{"b":2}\n', '{"d":4}\n']);
    expect(jsonChunks(body, all.slice(1)).map(String)).toEqual(['{"b":2}\n[3]\n{"d":4}\n']);
    expect(jsonChunks(body, [])).toEqual([]);
  });

  it('refuses a line that is not a view into the body', () => {
    expect(() => jsonChunks(body, [Buffer.from('{"a":1}')])).toThrow(RangeError);
    const all = lines(body, 4);
    expect(() => jsonChunks(body, [all[1]!, all[0]!])).toThrow(RangeError);
  });
});
