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
    expect({ ...fixed.params }).toEqual({ command: 'RELOAD', reason: 'restart_needed', key: 'max_body' });
    c.received.splice(c.received.indexOf(fixed), 1);

    await writeFile(file, `output = "${logs}"\nformat = "yaml"\n`);
    c.send(message('RELOAD'));
    const refused = await c.next((m) => m.command === 'INVALID' && m.params.command === 'RELOAD');
    expect(refused.params.reason).toBe('bad_config');
    expect(refused.params.error).toBe(`${file}: format must be one of "json", "text" (got "yaml")`);
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

  it('sends LOG over UDP when asked, saying nothing confirms it, and over a Unix socket with a reply', async () => {
    const sock = join(dir, 'c.sock');
    const collector = await startCollector(
      ['--listen', 'udp/127.0.0.1:0', '--listen', `unix/${sock}`, '--output', logs],
      {
        cwd: dir,
        listeners: 2,
      },
    );
    const udpAddress = collector.addresses.find((a) => a.startsWith('udp/'))!;
    const udp = await signal(['--host', udpAddress, 'LOG']);
    expect(udp.code).toBe(0);
    expect(udp.stderr).toContain(`LOG sent to ${udpAddress} as one datagram; nothing confirms`);
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

describe('signal over tcp, as the README runs it', () => {
  it('reopens the files of a tcp-only collector, and exits 3 naming the address when none answers', async () => {
    const collector = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', logs], {
      cwd: dir,
      listeners: 1,
    });
    const address = collector.addresses[0]!;
    const log = await signal(['--host', address, 'LOG']);
    expect(log).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(collector.stderr()).toMatch(/reopened output files/);
    await collector.stop('SIGTERM');
    const nobody = await signal(['--host', address, 'LOG']);
    expect(nobody.code).toBe(3);
    expect(nobody.stderr).toMatch(
      new RegExp(`^logwire signal: no collector answered at ${address}: connection refused`),
    );
  });
});

describe('RELOAD applies each key live, or names the key that needs a restart', () => {
  let file: string;
  let collector: CollectorProcess;

  /** Starts a collector from a config file holding `extra`. */
  async function start(extra = ''): Promise<void> {
    file = join(dir, 'c.toml');
    await writeFile(file, `output = "${logs}"\nlisten = ["tcp/127.0.0.1:0"]\n${extra}`);
    collector = await startCollector(['--config', file], { cwd: dir, listeners: 1 });
  }

  /** Rewrites the file with `extra` and sends RELOAD through `logwire signal`. */
  async function reload(extra: string) {
    await writeFile(file, `output = "${logs}"\nlisten = ["tcp/127.0.0.1:0"]\n${extra}`);
    return signal(['--host', collector.addresses[0]!, '--reply', 'RELOAD']);
  }

  async function alive(c: RawClient, serial: number): Promise<void> {
    c.send(message('ALIVE', { serial }));
    await c.next((m) => m.command === 'ABSOLUTELY' && m.params.serial === String(serial));
  }

  it('answers which keys changed, none when the file is the same', async () => {
    await start();
    expect(await reload('')).toMatchObject({ code: 0, stdout: 'OK command=RELOAD;changed=\n' });
    expect(await reload('format = "text"\nmax_sources = 5\n')).toMatchObject({
      code: 0,
      stdout: 'OK command=RELOAD;changed=format,max_sources\n',
    });
  });

  it('idle_timeout: a connection silent that long is closed', async () => {
    await start();
    const idle = await client(collector);
    await alive(idle, 1);
    expect(await reload('idle_timeout = 300\n')).toMatchObject({
      code: 0,
      stdout: 'OK command=RELOAD;changed=idle_timeout\n',
    });
    await idle.closedByPeer(5000);
  });

  it('max_connections: a session beyond it is refused, and raising it lets one in', async () => {
    await start();
    const first = await client(collector);
    expect((await session(first, 'one')).command).toBe('READY');
    expect(await reload('max_connections = 1\n')).toMatchObject({
      code: 0,
      stdout: 'OK command=RELOAD;changed=max_connections\n',
    });
    const refused = await client(collector);
    const answer = await session(refused, 'two');
    expect(answer.command).toBe('INVALID');
    expect({ ...answer.params }).toEqual({ command: 'REGISTER', reason: 'too_many_connections' });
    await refused.closedByPeer(5000);
    await alive(first, 2);
    await writeFile(file, `output = "${logs}"\nlisten = ["tcp/127.0.0.1:0"]\nmax_connections = 2\n`);
    first.send(message('RELOAD'));
    await first.next((m) => m.command === 'OK' && m.params.command === 'RELOAD');
    const second = await client(collector);
    expect((await session(second, 'three')).command).toBe('READY');
  });

  it('trace: turns tracing on and off', async () => {
    await start();
    const c = await client(collector);
    expect(await reload('trace = true\n')).toMatchObject({
      code: 0,
      stdout: 'OK command=RELOAD;changed=trace\n',
    });
    await alive(c, 41);
    await eventually(() => expect(collector.stderr()).toMatch(/TRACE .*ALIVE.*41/));
    expect(await reload('trace = false\n')).toMatchObject({
      code: 0,
      stdout: 'OK command=RELOAD;changed=trace\n',
    });
    await alive(c, 42);
    // The RELOAD that turned tracing off is the last traced message.
    const traced = collector
      .stderr()
      .split('\n')
      .filter((line) => line.includes('TRACE'));
    expect(traced.at(-1)).toMatch(/RELOAD/);
  });

  it('source_ttl: marks idle longer than the new one are forgotten at once', async () => {
    await start();
    const c = await client(collector);
    await session(c, 'gone');
    c.send(eventsMessage(1, 1));
    await c.next((m) => m.command === 'ACK');
    c.close();
    const status = async () => {
      const s = await signal(['--host', collector.addresses[0]!, '--reply', 'STATUS']);
      return /;sources=(\d+);/.exec(s.stdout)?.[1];
    };
    expect(await status()).toBe('1');
    expect(await reload('source_ttl = 1\n')).toMatchObject({
      code: 0,
      stdout: 'OK command=RELOAD;changed=source_ttl\n',
    });
    expect(await status()).toBe('0');
  });

  it('ack_delay: a long one still answers a client at once when nothing more is in flight', async () => {
    await start();
    expect(await reload('ack_delay = 600000\n')).toMatchObject({
      code: 0,
      stdout: 'OK command=RELOAD;changed=ack_delay\n',
    });
    const c = await client(collector);
    await session(c, 'ad');
    // Batches written together share one held ACK, released when the last one is written
    // (test/collector/intake/session-ack.test.ts times the hold itself on a manual clock).
    for (let seq = 1; seq <= 5; seq++) c.send(eventsMessage(seq, 1));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '5');
    c.send(eventsMessage(6, 1));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '6');
    expect(await numbersIn(join(logs, 'svc.log'))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('handshake_timeout: refused with restart_needed naming it, and the old configuration stays', async () => {
    await start('format = "json"\n');
    const r = await reload('format = "text"\nhandshake_timeout = 500\n');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('INVALID command=RELOAD;reason=restart_needed;key=handshake_timeout\n');
    expect(r.stderr).toContain('handshake_timeout cannot change without restarting the collector');
    const c = await client(collector);
    await session(c, 'hs');
    c.send(eventsMessage(1, 1));
    await c.next((m) => m.command === 'ACK');
    // Still json: the format change in the refused file was not applied either.
    expect(await readFile(join(logs, 'svc.log'), 'utf8')).toMatch(/^\{"level":30,.*"n":1,.*\}\n$/);
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
