/**
 * The real collector with every kind of listener at once: sessions over each stream
 * transport, UDP (§7), plain NDJSON (§10), authorization (§5), and bad input on every
 * listener (§6) with the collector staying up and its memory bounded.
 */

import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMessageToBuffer } from '../../shared/protocol/encode.js';
import { message } from '../../shared/protocol/message.js';
import { testCert } from '../helpers/certs.js';
import { type CollectorProcess, killAllCollectors, startCollector } from '../helpers/collector-process.js';
import { MessengerClient } from '../helpers/messenger-client.js';
import { eventsMessage, eventually, numbersIn, recordsBody } from '../helpers/records.js';

let dir: string;
let logs: string;
let collector: CollectorProcess;
let ca: Buffer;
const clients: MessengerClient[] = [];

function address(scheme: string): string {
  const found = collector.addresses.find((a) => a.startsWith(`${scheme}/`));
  if (found === undefined) throw new Error(`no ${scheme} listener`);
  return found;
}

async function client(scheme: string, headers?: Record<string, string>): Promise<MessengerClient> {
  const c = await MessengerClient.connect(address(scheme), {
    tls: { ca },
    ...(headers === undefined ? {} : { ws: { headers } }),
  });
  clients.push(c);
  return c;
}

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-listeners-'));
  logs = join(dir, 'logs');
  const cert = testCert();
  ca = cert.cert;
  await writeFile(join(dir, 'cert.pem'), cert.cert);
  await writeFile(join(dir, 'key.pem'), cert.key);
  await writeFile(
    join(dir, 'collector.toml'),
    `output = "${logs}"
secret_code = "s3cret"
max_body = 1048576

[[listen]]
address = "tcp/127.0.0.1:0"

[[listen]]
address = "tls/127.0.0.1:0"
tls_cert = "${join(dir, 'cert.pem')}"
tls_key = "${join(dir, 'key.pem')}"

[[listen]]
address = "unix/${join(dir, 'collector.sock')}"
unix_mode = "0660"

[[listen]]
address = "ws/127.0.0.1:0/logs"
allow_origins = ["http://evil.example"]

[[listen]]
address = "wss/127.0.0.1:0/logs"
allow_origins = ["http://evil.example"]
tls_cert = "${join(dir, 'cert.pem')}"
tls_key = "${join(dir, 'key.pem')}"

[[listen]]
address = "udp/127.0.0.1:0"

[[listen]]
address = "ndjson/127.0.0.1:0"
service = "shipped"
`,
  );
  collector = await startCollector(['--config', join(dir, 'collector.toml')], { cwd: dir, listeners: 7 });
});

afterAll(async () => {
  for (const c of clients.splice(0)) c.close();
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

describe('sessions over every stream transport', () => {
  it.each(['tls', 'unix', 'ws', 'wss'])('%s: REGISTER, EVENTS with a body, ACK', async (scheme) => {
    const c = await client(scheme);
    c.send(message('REGISTER', { version: 1, source: `src-${scheme}`, service: scheme, host: 'h', next: 1 }));
    expect((await c.next((m) => m.command === 'READY')).params.last).toBe('0');
    c.send(eventsMessage(1, 50));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '50');
    expect(await numbersIn(join(logs, `${scheme}.log`))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });
});

describe('numbered bodies over max_body (§3, §6, §8)', () => {
  it.each(['tcp', 'ws'])('writes a numbered batch over max_body whole over %s', async (scheme) => {
    const c = await client(scheme);
    const service = `whole-${scheme}`;
    c.send(message('REGISTER', { version: 1, source: service, service, host: 'h', next: 1 }));
    await c.next((m) => m.command === 'READY');
    // About 2 MiB of records in one batch: twice this collector's max_body (1 MiB).
    const body = recordsBody(1, 20_000, `,"pad":"${'p'.repeat(40)}"`);
    expect(body.length).toBeGreaterThan(2 * 1024 * 1024);
    c.send(message('EVENTS', { seq: 1, count: 20_000 }, body));
    c.send(eventsMessage(20_001, 1));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '20001');
    expect(await numbersIn(join(logs, `${service}.log`))).toEqual(
      Array.from({ length: 20_001 }, (_, i) => i + 1),
    );
  });
});

describe('UDP (§7)', () => {
  it('writes a datagram batch, drops a bad one, never answers', async () => {
    const udp = createSocket('udp4');
    const replies: Buffer[] = [];
    udp.on('message', (m) => replies.push(m));
    const port = collector.port('udp');
    const send = (packet: Buffer) =>
      new Promise<void>((resolve, reject) =>
        udp.send(packet, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
      );
    await send(Buffer.from('garbage that is not a message'));
    await send(Buffer.from('EVENTS seq=1;count=1;bytes=99\n{}\n'));
    await send(
      encodeMessageToBuffer(
        message('EVENTS', { seq: 1, count: 3, source: 'u1', service: 'udp', host: 'h' }, recordsBody(1, 3)),
      ),
    );
    await eventually(async () => expect(await numbersIn(join(logs, 'udp.log'))).toEqual([1, 2, 3]));
    const c = await client('tcp');
    c.send(message('STATUS'));
    const status = await c.next((m) => m.command === 'OK' && m.params.command === 'STATUS');
    expect(Number(status.params.datagrams_dropped)).toBeGreaterThanOrEqual(2);
    udp.close();
    expect(replies).toEqual([]);
  });
});

describe('plain NDJSON (§10)', () => {
  it('writes raw records under the configured service', async () => {
    const socket = connect(collector.port('ndjson'), '127.0.0.1');
    socket.write(recordsBody(1, 4));
    socket.end();
    await eventually(async () => expect(await numbersIn(join(logs, 'shipped.log'))).toEqual([1, 2, 3, 4]));
  });

  it('closes on a line over max_body', async () => {
    const socket = connect(collector.port('ndjson'), '127.0.0.1');
    socket.on('error', () => {});
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(Buffer.alloc(2 * 1024 * 1024, 0x61));
    await closed;
  });
});

describe('authorization (§5)', () => {
  it('obeys LOG from loopback and a Unix socket', async () => {
    for (const scheme of ['tcp', 'unix']) {
      const c = await client(scheme);
      c.send(message('LOG'));
      await c.next((m) => m.command === 'OK' && m.params.command === 'LOG');
    }
  });

  it('takes origin and destination as labels: they grant no authority (§1)', async () => {
    const ws = await client('ws', { Origin: 'http://evil.example' });
    ws.send({
      ...message('LOG'),
      origin: { server: 'localhost', service: 'logwire' },
      dest: { server: 'localhost', service: 'logwire' },
    });
    expect((await ws.next((m) => m.command === 'UNAUTHORIZED')).params.command).toBe('LOG');
  });

  it('never trusts a browser (a WebSocket with Origin), unless it brings the secret over wss', async () => {
    const ws = await client('ws', { Origin: 'http://evil.example' });
    ws.send(message('LOG', { secret_code: 's3cret' }));
    expect((await ws.next((m) => m.command === 'UNAUTHORIZED')).params.command).toBe('LOG');
    const wss = await client('wss', { Origin: 'http://evil.example' });
    wss.send(message('STOP'));
    await wss.next((m) => m.command === 'UNAUTHORIZED');
    wss.send(message('LOG', { secret_code: 'wrong' }));
    await wss.next((m) => m.command === 'UNAUTHORIZED' && m !== wss.received[0]);
    wss.send(message('LOG', { secret_code: 's3cret' }));
    await wss.next((m) => m.command === 'OK' && m.params.command === 'LOG');
  });
});

describe('bad input on every listener (§6)', () => {
  it.each(['tcp', 'tls', 'unix', 'ws', 'wss'])(
    '%s: a first line that does not parse closes the connection',
    async (scheme) => {
      const c = await client(scheme);
      c.messenger.link.write([Buffer.from('GET / HTTP/1.1\r\n\r\n')]);
      await c.closedByPeer();
    },
  );

  it('stays up with bounded memory under oversized bodies on every stream listener', async () => {
    const before = rssKiB(collector.child.pid!);
    for (const scheme of ['tcp', 'tls', 'unix']) {
      const c = await client(scheme);
      c.send(
        message('REGISTER', { version: 1, source: `big-${scheme}`, service: 'big', host: 'h', next: 1 }),
      );
      await c.next((m) => m.command === 'READY');
      // 51 MiB of bodies, each over 16 MiB (what a numbered body may reach whatever max_body):
      // read and discarded, acknowledged.
      for (let i = 0; i < 3; i++)
        c.send(message('EVENTS', { seq: i + 1, count: 1 }, Buffer.alloc(17 * 1024 * 1024, 0x7b)));
      await c.next((m) => m.command === 'ACK' && m.params.seq === '3', 30_000);
    }
    const after = rssKiB(collector.child.pid!);
    expect(after - before).toBeLessThan(64 * 1024);
    const c = await client('tcp');
    c.send(message('STATUS'));
    const status = await c.next((m) => m.command === 'OK');
    expect(Number(status.params.rejected)).toBeGreaterThanOrEqual(9);
    expect(await readFile(join(logs, '_rejected.log'), 'utf8')).toContain('body_too_large');
  });
});
