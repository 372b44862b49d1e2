import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TokenCheck } from '../../../collector/access/token-check.js';
import { inProcessCollector } from '../../helpers/in-process-collector.js';

const lw = inProcessCollector('lw-http-');

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

function post(
  port: number,
  body: string | Buffer,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: '/', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : JSON.parse(text) }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const output = (service = 'http') => readFileSync(join(lw.dir, 'logs', `${service}.log`), 'utf8');

describe('http listener', () => {
  it('answers 200 once the records are written, gzip or not', async () => {
    const [port] = await lw.start({}, undefined, ['http/127.0.0.1:0']);
    expect(lw.collector.addresses[0]).toMatch(/^http\/127\.0\.0\.1:\d+$/);
    expect(await post(port!, '{"a":1}\n{"b":2}')).toEqual({ status: 200, body: { records: 2 } });
    expect(output()).toBe('{"a":1}\n{"b":2}\n');
    const gz = await post(port!, gzipSync('{"c":3}\n'), { 'Content-Encoding': 'gzip' });
    expect(gz.status).toBe(200);
    expect(output()).toBe('{"a":1}\n{"b":2}\n{"c":3}\n');
  });

  it('refuses a bad body whole (400), other methods (405), and bodies over max_body (413)', async () => {
    const [port] = await lw.start({ maxBody: 64 }, undefined, ['http/127.0.0.1:0']);
    expect((await post(port!, '{"a":1}\nnot json\n')).status).toBe(400);
    expect((await post(port!, '[1]\n')).status).toBe(400);
    expect((await post(port!, '')).status).toBe(400);
    expect((await post(port!, Buffer.from([0x7b, 0xff, 0x7d]))).status).toBe(400);
    expect((await post(port!, 'x', { 'Content-Encoding': 'gzip' })).status).toBe(400);
    expect((await post(port!, '', {}, 'GET')).status).toBe(405);
    expect((await post(port!, `{"pad":"${'x'.repeat(100)}"}\n`)).status).toBe(413);
    // Small on the wire, large once unpacked: counted after decompression.
    const bomb = gzipSync(`{"pad":"${'x'.repeat(10_000)}"}\n`);
    expect(bomb.length).toBeLessThan(64 * 2);
    expect((await post(port!, bomb, { 'Content-Encoding': 'gzip' })).status).toBe(413);
    expect((await post(port!, '{"ok":1}\n')).status).toBe(200);
    expect(output()).toBe('{"ok":1}\n');
  });

  it('requires the bearer token when one is set (401)', async () => {
    const [port] = await lw.start({ token: ['s3cret'] }, undefined, ['http/127.0.0.1:0']);
    expect((await post(port!, '{"a":1}\n')).status).toBe(401);
    expect((await post(port!, '{"a":1}\n', { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(port!, '{"a":1}\n', { Authorization: 'Bearer s3cret' })).status).toBe(200);
    expect(output()).toBe('{"a":1}\n');
  });

  it('turns a retry with the same Idempotency-Key into a no-op, also after a restart', async () => {
    let [port] = await lw.start({}, undefined, ['http/127.0.0.1:0']);
    const key = { 'Idempotency-Key': 'batch-1' };
    expect(await post(port!, '{"a":1}\n', key)).toEqual({ status: 200, body: { records: 1 } });
    expect(await post(port!, '{"a":1}\n', key)).toEqual({
      status: 200,
      body: { records: 1, duplicate: true },
    });
    await lw.collector.stop('test');
    [port] = await lw.start({}, undefined, ['http/127.0.0.1:0']);
    expect((await post(port!, '{"a":1}\n', key)).body).toEqual({ records: 1, duplicate: true });
    expect((await post(port!, '{"a":1}\n', { 'Idempotency-Key': 'batch-2' })).status).toBe(200);
    expect(output()).toBe('{"a":1}\n{"a":1}\n');
  });

  it('compares tokens whatever their lengths', () => {
    const check = new TokenCheck(['abc']);
    expect(check.accepts('abc')).toBe(true);
    expect(check.accepts('abcd')).toBe(false);
    expect(check.accepts('')).toBe(false);
  });
});
