/**
 * The real collector CLI under configuration, signals and the `logwire signal` tool.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { message } from '../../shared/protocol/message.js';
import {
  type CollectorProcess,
  killAllCollectors,
  LOGWIRE_BIN,
  startCollector,
} from '../helpers/collector-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventsMessage, eventually, numbersIn } from '../helpers/records.js';

const run = promisify(execFile);
let dir: string;
let logs: string;
const clients: RawClient[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-control-'));
  logs = join(dir, 'logs');
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

async function client(collector: CollectorProcess): Promise<RawClient> {
  const c = await RawClient.connect({ port: collector.port('tcp') });
  clients.push(c);
  return c;
}

async function signal(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [LOGWIRE_BIN, 'signal', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function session(c: RawClient, source: string, service = 'svc', extra: Record<string, string> = {}) {
  c.send(message('REGISTER', { version: 1, source, service, host: 'h1', next: 1, ...extra }));
  return c.next((m) => m.command !== 'ABSOLUTELY');
}

describe('RELOAD', () => {
  it('applies a good file and refuses a bad one, keeping the running configuration', async () => {
    const file = join(dir, 'c.toml');
    await writeFile(file, `output = "${logs}"\nlisten = ["tcp/127.0.0.1:0"]\nformat = "json"\n`);
    const collector = await startCollector(['--config', file], { cwd: dir, listeners: 1 });
    const c = await client(collector);
    await writeFile(file, `output = "${logs}"\nlisten = ["tcp/127.0.0.1:0"]\nformat = "text"\n`);
    c.send(message('RELOAD'));
    await c.next((m) => m.command === 'OK' && m.params.command === 'RELOAD');
    await session(c, 'rl');
    c.send(eventsMessage(1, 1));
    await c.next((m) => m.command === 'ACK');
    expect(await readFile(join(logs, 'svc.log'), 'utf8')).toMatch(
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO svc\/h1\] record 1 \{"n":1\}\n$/,
    );

    await writeFile(
      file,
      `output = "${logs}"\nlisten = ["tcp/127.0.0.1:0"]\nformat = "text"\nmax_body = 1000\n`,
    );
    c.send(message('RELOAD'));
    const fixed = await c.next((m) => m.command === 'INVALID' && m.params.command === 'RELOAD');
    expect(fixed.params.reason).toBe('restart_needed');
    c.received.splice(c.received.indexOf(fixed), 1);

    await writeFile(file, `output = "${logs}"\nformat = "yaml"\n`);
    c.send(message('RELOAD'));
    const refused = await c.next((m) => m.command === 'INVALID' && m.params.command === 'RELOAD');
    expect(refused.params.reason).toBe('bad_config');
    c.send(eventsMessage(2, 1));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '2');
    expect((await readFile(join(logs, 'svc.log'), 'utf8')).split('\n')[1]).toMatch(
      /^\[.* INFO svc\/h1\] record 2/,
    );
  });
});

describe('signals and the signal tool', () => {
  it('reopens files on SIGHUP: after a rename, new records go to a new file', async () => {
    const collector = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', logs], {
      cwd: dir,
      listeners: 1,
    });
    const c = await client(collector);
    await session(c, 'hup');
    c.send(eventsMessage(1, 2));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '2');
    await rename(join(logs, 'svc.log'), join(logs, 'svc.log.1'));
    collector.child.kill('SIGHUP');
    await eventually(() => expect(collector.stderr()).toMatch(/reopened/));
    c.send(eventsMessage(3, 2));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '4');
    expect(await numbersIn(join(logs, 'svc.log.1'))).toEqual([1, 2]);
    expect(await numbersIn(join(logs, 'svc.log'))).toEqual([3, 4]);
  });

  it('sends LOG over UDP (the default), and over a Unix socket with a reply', async () => {
    const sock = join(dir, 'c.sock');
    const collector = await startCollector(
      ['--listen', 'udp/127.0.0.1:0', '--listen', `unix/${sock}`, '--output', logs],
      {
        cwd: dir,
        listeners: 2,
      },
    );
    const udp = await signal(['--host', collector.addresses.find((a) => a.startsWith('udp/'))!, 'LOG']);
    expect(udp.code).toBe(0);
    await eventually(() => expect(collector.stderr()).toMatch(/reopened output files/));
    const unix = await signal(['--host', `unix/${sock}`, '--reply', 'STATUS']);
    expect(unix.code).toBe(0);
    expect(unix.stdout).toMatch(/^OK command=STATUS;state=running;/);
    const unknown = await signal(['--host', `unix/${sock}`, 'FROB']);
    expect(unknown.code).toBe(2);
    const nobody = await signal(['--host', `unix/${join(dir, 'none.sock')}`, '--timeout', '2000', 'LOG']);
    expect(nobody.code).toBe(3);
    const usage = await signal(['--host', `unix/${sock}`, '--secret-code', 'x', 'LOG']);
    expect(usage.code).toBe(1);
  });
});

describe('STOP with an ndjson peer', () => {
  it('writes the last line a closing ndjson peer left without LF', async () => {
    const collector = await startCollector(
      ['--listen', 'tcp/127.0.0.1:0', '--listen', 'ndjson/127.0.0.1:0', '--output', logs],
      { cwd: dir, listeners: 2 },
    );
    const { connect } = await import('node:net');
    const raw = connect(collector.port('ndjson'), '127.0.0.1');
    raw.on('error', () => {});
    raw.on('end', () => raw.end()); // a peer that answers our FIN with its own
    raw.write('{"n":1}\n{"n":2}');
    await eventually(async () => expect(await numbersIn(join(logs, 'ndjson.log'))).toEqual([1]));
    const c = await client(collector);
    c.send(message('STOP'));
    expect((await collector.exited).code).toBe(0);
    expect(await numbersIn(join(logs, 'ndjson.log'))).toEqual([1, 2]);
  });
});

describe('configuration', () => {
  it('requires the token when one is configured', async () => {
    await writeFile(
      join(dir, 'c.toml'),
      `output = "${logs}"\nlisten = ["tcp/127.0.0.1:0"]\ntoken = "t0ken"\n`,
    );
    const collector = await startCollector(['--config', join(dir, 'c.toml')], { cwd: dir, listeners: 1 });
    const bad = await client(collector);
    expect((await session(bad, 'tk', 'svc', { token: 'nope' })).command).toBe('UNAUTHORIZED');
    await bad.closedByPeer();
    const good = await client(collector);
    expect((await session(good, 'tk', 'svc', { token: 't0ken' })).command).toBe('READY');
    expect(collector.stderr()).not.toContain('t0ken');
  });

  it('refuses a new source beyond max_sources, and still serves the known ones', async () => {
    await writeFile(
      join(dir, 'c.toml'),
      `output = "${logs}"\nlisten = ["tcp/127.0.0.1:0"]\nmax_sources = 1\n`,
    );
    const collector = await startCollector(['--config', join(dir, 'c.toml')], { cwd: dir, listeners: 1 });
    const first = await client(collector);
    expect((await session(first, 'one')).command).toBe('READY');
    first.send(eventsMessage(1, 1));
    await first.next((m) => m.command === 'ACK');
    const second = await client(collector);
    const refused = await session(second, 'two');
    expect({ ...refused.params }).toEqual({ command: 'REGISTER', reason: 'too_many_sources' });
    first.close();
    const again = await client(collector);
    expect((await session(again, 'one', 'svc', { next: '2' })).command).toBe('READY');
  });

  it('acknowledges after fsync with durability = "fsync"', async () => {
    await writeFile(
      join(dir, 'c.toml'),
      `output = "${logs}"\nlisten = ["tcp/127.0.0.1:0"]\ndurability = "fsync"\n`,
    );
    const collector = await startCollector(['--config', join(dir, 'c.toml')], { cwd: dir, listeners: 1 });
    const c = await client(collector);
    await session(c, 'fs');
    for (let i = 0; i < 10; i++) c.send(eventsMessage(i * 10 + 1, 10));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '100');
    expect(await numbersIn(join(logs, 'svc.log'))).toHaveLength(100);
  });

  it('exits 1 naming the key on a bad configuration, and 2 when a listener cannot be bound', async () => {
    await writeFile(join(dir, 'bad.toml'), 'ackDelay = 5\n');
    await expect(
      startCollector(['--config', join(dir, 'bad.toml')], { cwd: dir, listeners: 1 }),
    ).rejects.toThrow(/exited \(1\)[\s\S]*ack_delay/);
    const first = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', logs], {
      cwd: dir,
      listeners: 1,
    });
    await expect(
      startCollector(['--listen', first.addresses[0]!, '--output', join(dir, 'other')], {
        cwd: dir,
        listeners: 1,
      }),
    ).rejects.toThrow(/exited \(2\)[\s\S]*address in use/);
  });

  it('--trace logs each received message, never a body or a secret', async () => {
    const collector = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', logs, '--trace'], {
      cwd: dir,
      listeners: 1,
    });
    const c = await client(collector);
    await session(c, 'tr', 'svc', { token: 'hush' });
    c.send(eventsMessage(1, 1));
    await c.next((m) => m.command === 'ACK');
    await eventually(() => expect(collector.stderr()).toMatch(/TRACE.*EVENTS/));
    expect(collector.stderr()).toMatch(/TRACE.*REGISTER/);
    expect(collector.stderr()).not.toContain('hush');
    expect(collector.stderr()).not.toContain('record 1');
  });
});
