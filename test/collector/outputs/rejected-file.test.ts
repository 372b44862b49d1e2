import { describe, expect, it } from 'vitest';
import { formatRejected, REJECTED_PATH } from '../../../collector/outputs/rejected-file.js';

describe('formatRejected', () => {
  it('writes one JSON line with the record as a string', () => {
    const line = formatRejected({
      time: 5,
      reason: 'not_an_object',
      source: 'a1',
      record: Buffer.from('[1,"x"]'),
    });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(JSON.parse(line)).toEqual({ time: 5, reason: 'not_an_object', source: 'a1', record: '[1,"x"]' });
  });

  it('keeps a multi-line body on one line', () => {
    const line = formatRejected({
      time: 1,
      reason: 'too_few_lines',
      source: 's',
      record: Buffer.from('{}\n{}\n'),
    });
    expect(line.split('\n')).toHaveLength(2);
    expect(JSON.parse(line).record).toBe('{}\n{}\n');
  });

  it('uses base64 for bytes that are not UTF-8', () => {
    const record = Buffer.from([0x7b, 0xff, 0x7d]);
    expect(JSON.parse(formatRejected({ time: 1, reason: 'invalid_utf8', source: 's', record }))).toEqual({
      time: 1,
      reason: 'invalid_utf8',
      source: 's',
      record: record.toString('base64'),
      encoding: 'base64',
    });
  });

  it('masks a token or secret_code in the record, even one that is not UTF-8', () => {
    const register = Buffer.from('REGISTER version=1;source=a;service=s;host=h;next=1;token=hunter2');
    const text = JSON.parse(
      formatRejected({ time: 1, reason: 'not_an_object', source: 's', record: register }),
    );
    expect(text.record).toBe('REGISTER version=1;source=a;service=s;host=h;next=1;token=***');
    const binary = Buffer.concat([Buffer.from([0xff]), Buffer.from(' secret_code=xyzzy;x=1')]);
    const line = formatRejected({ time: 1, reason: 'invalid_utf8', source: 's', record: binary });
    const record = Buffer.from(JSON.parse(line).record, 'base64');
    expect(record.toString('latin1')).toBe('\xff secret_code=***;x=1');
  });

  it('names the file so that no service can collide with it', () => {
    expect(REJECTED_PATH).toBe('_rejected.log');
  });
});
