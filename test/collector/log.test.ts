import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createCollectorLog, formatLogLine } from '../../collector/log.js';

const T = Date.UTC(2026, 10, 22, 23, 40, 0, 670);

function capture(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').slice(0, -1) };
}

describe('createCollectorLog', () => {
  it('writes the text layout in UTC with compact JSON fields', () => {
    const out = capture();
    const log = createCollectorLog({ trace: false, stream: out.stream, clock: () => T, hostname: 'box' });
    log.info('listener bound', { address: 'tcp/127.0.0.1:4043', n: 2 });
    log.warn('slow');
    log.error('failed', {});
    expect(out.lines()).toEqual([
      '[2026-11-22 23:40:00.670 INFO logwire/box] listener bound {"address":"tcp/127.0.0.1:4043","n":2}',
      '[2026-11-22 23:40:00.670 WARN logwire/box] slow',
      '[2026-11-22 23:40:00.670 ERROR logwire/box] failed',
    ]);
  });

  it('writes trace lines only when trace is on', () => {
    const off = capture();
    createCollectorLog({ trace: false, stream: off.stream, clock: () => T, hostname: 'h' }).trace('EVENTS');
    expect(off.lines()).toEqual([]);
    const on = capture();
    createCollectorLog({ trace: true, stream: on.stream, clock: () => T, hostname: 'h' }).trace('EVENTS', {
      seq: 1,
    });
    expect(on.lines()).toEqual(['[2026-11-22 23:40:00.670 TRACE logwire/h] EVENTS {"seq":1}']);
  });

  it('masks token and secret_code at any depth', () => {
    const out = capture();
    const log = createCollectorLog({ trace: true, stream: out.stream, clock: () => T, hostname: 'h' });
    log.trace('REGISTER', { params: { source: 's1', token: 'hunter2' }, secret_code: 'xyzzy' });
    const [line] = out.lines();
    expect(line).not.toContain('hunter2');
    expect(line).not.toContain('xyzzy');
    expect(line).toContain('"params":{"source":"s1","token":"***"},"secret_code":"***"');
  });

  it('masks a token or secret_code written in the message, a text field or an error', () => {
    const out = capture();
    const log = createCollectorLog({ trace: false, stream: out.stream, clock: () => T, hostname: 'h' });
    log.warn('bad line REGISTER source=a;token=hunter2', {
      line: 'EVENTS secret_code=xyzzy',
      err: new Error('unparsable: LOG secret_code="p;q"'),
    });
    const [line] = out.lines();
    expect(line).not.toMatch(/hunter2|xyzzy|p;q/);
    expect(line).toContain('REGISTER source=a;token=***');
    expect(line).toContain('"line":"EVENTS secret_code=***"');
    expect(line).toContain('LOG secret_code=***');
  });

  it('keeps each entry on one line and shows errors by code and message', () => {
    const out = capture();
    const log = createCollectorLog({ trace: false, stream: out.stream, clock: () => T, hostname: 'h' });
    const err = Object.assign(new Error('disk\nfull'), { code: 'ENOSPC' });
    log.error('write failed\nbadly', { err, big: 10n });
    expect(out.lines()).toEqual([
      '[2026-11-22 23:40:00.670 ERROR logwire/h] write failed\\nbadly {"err":{"code":"ENOSPC","message":"disk\\nfull"},"big":"10"}',
    ]);
  });

  it('survives fields with a cycle', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(formatLogLine(T, 'INFO', 'logwire/h', 'm', cyclic)).toBe(
      '[2026-11-22 23:40:00.670 INFO logwire/h] m {"fields":"unserializable"}',
    );
  });
});
