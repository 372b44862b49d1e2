/**
 * Running a collector: `logwire status` and `logwire top` (driven in a pseudo-terminal) show a
 * live session; the collector's own log says when sessions open, close or are superseded and
 * what recovery cut; settings come from defaults < file < LOGWIRE_<KEY> < flags; and
 * `logwire check-config` takes good files and names the file, key and reason of bad ones.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getInteger } from '../../shared/protocol/accessors.js';
import { message } from '../../shared/protocol/message.js';
import { killAllCollectors, LOGWIRE_BIN, startCollector } from '../helpers/collector-process.js';
import { until } from '../helpers/net-fixtures.js';
import { RawClient } from '../helpers/raw-client.js';
import { recordsBody } from '../helpers/records.js';

const execFileP = promisify(execFile);
const EXAMPLE_TOML = resolve(import.meta.dirname, '..', '..', 'examples', 'collector.toml');

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real CLI to its end; a non-zero exit is a result, not a throw. */
async function logwire(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [LOGWIRE_BIN, ...args], {
      cwd: dir,
      env: { ...process.env, ...env },
      timeout: 20_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let dir: string;
const clients: RawClient[] = [];
const children: ChildProcess[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-ops-'));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

async function session(port: number, source: string, records: number): Promise<RawClient> {
  const c = await RawClient.connect({ port });
  clients.push(c);
  c.send(message('REGISTER', { version: 1, source, service: 'api', host: 'h', next: 1 }));
  await c.next((m) => m.command === 'READY');
  if (records > 0) await sendAndAck(c, 1, records);
  return c;
}

async function sendAndAck(c: RawClient, from: number, count: number): Promise<void> {
  c.send(message('EVENTS', { seq: from, count }, recordsBody(from, count)));
  await c.next((m) => m.command === 'ACK' && getInteger(m.params, 'seq') === from + count - 1);
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('logwire status', () => {
  it('prints the state, the live session, its source and the counters, as a table and as JSON', async () => {
    const collector = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', join(dir, 'logs')], {
      cwd: dir,
      listeners: 1,
    });
    const port = collector.port('tcp');
    const c = await session(port, 'ops-status', 10);
    const peer = `tcp/127.0.0.1:${c.socket.localPort}`;

    const table = await logwire(['status', '--host', `tcp/127.0.0.1:${port}`]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/: running, up /);
    const row = table.stdout
      .split('\n')
      .find((line) => line.startsWith('ops-status ') && line.includes(peer));
    expect(row?.split(/\s+/).slice(0, 3)).toEqual(['ops-status', 'api', peer]);
    expect(table.stdout).toMatch(/^written\s+10$/m);

    const json = await logwire(['status', '--host', `127.0.0.1:${port}`, '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as {
      counters: Record<string, number | string>;
      sessions: { source: string; service: string; peer: string; last_ack: number }[];
      sources: { source: string; mark: number; lost: number }[];
    };
    expect(report.counters.state).toBe('running');
    expect(report.counters.written).toBe(10);
    expect(report.counters.live_sessions).toBe(1);
    expect(report.sessions).toEqual([
      expect.objectContaining({ source: 'ops-status', service: 'api', peer, last_ack: 10 }),
    ]);
    expect(report.sources).toEqual([expect.objectContaining({ source: 'ops-status', mark: 10, lost: 0 })]);
  });

  it('exits 3 naming the address when nothing answers', async () => {
    const port = await closedPort();
    const result = await logwire(['status', '--host', `tcp/127.0.0.1:${port}`, '--timeout', '3000']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`tcp/127.0.0.1:${port}`);
    // One reason, said once: signal's own "no collector answered at …".
    expect(result.stderr.match(/tcp\/127\.0\.0\.1:\d+/g)).toHaveLength(1);
    const top = await logwire(['top', '--host', `tcp/127.0.0.1:${port}`]);
    expect(top.code).toBe(3);
    expect(top.stderr).toContain(`tcp/127.0.0.1:${port}`);
  });
});

describe('logwire top', () => {
  /** `top` in a pseudo-terminal made by python3's pty module; exits with top's own code. */
  function topInPty(port: number): {
    child: ChildProcess;
    output: () => string;
    exited: Promise<number | null>;
  } {
    const script =
      'import os, pty, sys\nstatus = pty.spawn(sys.argv[1:])\nsys.exit(os.waitstatus_to_exitcode(status))';
    const child = spawn(
      'python3',
      [
        '-c',
        script,
        process.execPath,
        LOGWIRE_BIN,
        'top',
        '--host',
        `tcp/127.0.0.1:${port}`,
        '--interval',
        '200',
      ],
      { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    children.push(child);
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    return { child, output: () => out, exited };
  }

  /** The `ops-top` row of the newest frame: SOURCE SERVICE PEER MARK RECORDS/S UNACKED LAG. */
  function lastRow(output: string): string[] | undefined {
    const frame = output.split('\x1b[2J').at(-1) ?? '';
    return frame
      .split(/\r?\n/)
      .find((line) => line.startsWith('ops-top '))
      ?.trim()
      .split(/\s+/);
  }

  it('redraws a live session with its rate in a terminal, and q quits with 0', async () => {
    const collector = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', join(dir, 'logs')], {
      cwd: dir,
      listeners: 1,
    });
    const port = collector.port('tcp');
    const c = await session(port, 'ops-top', 10);
    const top = topInPty(port);
    await until(() => lastRow(top.output())?.[3] === '10', 'a frame with the session at mark 10', 15_000);
    expect(top.output()).toContain('\x1b[H\x1b[2J');
    expect(lastRow(top.output())?.slice(0, 3)).toEqual([
      'ops-top',
      'api',
      `tcp/127.0.0.1:${c.socket.localPort}`,
    ]);

    await sendAndAck(c, 11, 500);
    await until(() => lastRow(top.output())?.[3] === '510', 'a frame with the session at mark 510', 15_000);
    // The frame after the mark moved shows the records per second since the one before.
    expect(Number(lastRow(top.output())?.[4])).toBeGreaterThan(0);

    top.child.stdin!.write('q');
    expect(await top.exited).toBe(0);
  });

  it('prints plain frames one after another when stdout is not a terminal; SIGINT quits with 0', async () => {
    const collector = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', join(dir, 'logs')], {
      cwd: dir,
      listeners: 1,
    });
    await session(collector.port('tcp'), 'ops-top', 3);
    const child = spawn(
      process.execPath,
      [LOGWIRE_BIN, 'top', '--host', `tcp/127.0.0.1:${collector.port('tcp')}`, '--interval', '200'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await until(() => (out.match(/^logwire top /gm) ?? []).length >= 2, 'two frames', 15_000);
    expect(out).not.toContain('\x1b[');
    expect(out).toMatch(/^ops-top\s+api\s+tcp\/127\.0\.0\.1:\d+\s+3\s/m);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});

describe("the collector's own log", () => {
  it('says when a session opens, is superseded and closes', async () => {
    const collector = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', join(dir, 'logs')], {
      cwd: dir,
      listeners: 1,
    });
    const port = collector.port('tcp');
    const first = await session(port, 'ops-log', 2);
    await until(() => collector.stderr().includes('INFO'), 'a log line');
    expect(collector.stderr()).toMatch(/INFO [^\]]+\] session opened \{"source":"ops-log","service":"api"/);
    const second = await RawClient.connect({ port });
    clients.push(second);
    second.send(message('REGISTER', { version: 1, source: 'ops-log', service: 'api', host: 'h', next: 3 }));
    await second.next((m) => m.command === 'READY');
    await first.closedByPeer();
    await until(() => /session closed .*"was":"superseded"/.test(collector.stderr()), 'the superseded close');
    expect(collector.stderr()).toMatch(/INFO [^\]]+\] session superseded \{"source":"ops-log"/);
    second.close();
    await until(() => /session closed .*"was":"ready"/.test(collector.stderr()), 'the second close');
  });

  it('says what recovery cut back after a crash left an unacknowledged tail', async () => {
    const logs = join(dir, 'logs');
    const args = ['--listen', 'tcp/127.0.0.1:0', '--output', logs];
    const first = await startCollector(args, { cwd: dir, listeners: 1 });
    const c = await session(first.port('tcp'), 'ops-recover', 5);
    c.close();
    expect((await first.stop()).code).toBe(0);
    expect(first.stderr()).toContain('recovery: no file to cut back');
    // Bytes past the checkpointed length, declared as a tick's tail and never saved: what a crash
    // between a write and its save leaves (a longer file without the declaration is refused).
    const state = join(logs, '.state');
    const journal = (await readFile(join(state, 'checkpoint.journal'), 'utf8')).trim().split('\n');
    const last = journal.at(-1) || (await readFile(join(state, 'checkpoint.json'), 'utf8'));
    const gen = (JSON.parse(last) as { gen: number }).gen;
    await appendFile(
      join(state, 'checkpoint.journal'),
      `${JSON.stringify({ gen, sources: {}, outputs: {}, tail: { 'api.log': 24 } })}\n`,
    );
    await appendFile(join(logs, 'api.log'), '{"unacknowledged":true}\n');
    const second = await startCollector(args, { cwd: dir, listeners: 1 });
    expect(second.stderr()).toMatch(
      /INFO [^\]]+\] recovery: cut 1 file\(s\) back by 24 bytes never acknowledged/,
    );
    expect(second.stderr()).toContain('"path":"api.log"');
  });
});

describe('settings: defaults < file < LOGWIRE_<KEY> < flags', () => {
  it('takes the environment over the file and the flags over both (real CLI)', async () => {
    const file = join(dir, 'collector.toml');
    await writeFile(file, 'listen = ["tcp/127.0.0.1:0"]\noutput = "from-file"\nmax_body = 1000\n');
    const env = {
      LOGWIRE_LISTEN: 'tcp/127.0.0.1:0, udp/127.0.0.1:0',
      LOGWIRE_OUTPUT: 'from-env',
      LOGWIRE_MAX_BODY: '2000',
    };
    const readyMaxBody = async (port: number): Promise<number> => {
      const c = await session(port, `ops-env-${port}`, 0);
      const ready = c.received.find((m) => m.command === 'READY')!;
      return getInteger(ready.params, 'max_body');
    };

    const fromFile = await startCollector(['--config', file], { cwd: dir, listeners: 1 });
    expect(fromFile.addresses).toHaveLength(1);
    expect(await readyMaxBody(fromFile.port('tcp'))).toBe(1000);
    expect((await logwire(['status', '--host', `tcp/127.0.0.1:${fromFile.port('tcp')}`])).code).toBe(0);
    await fromFile.stop();

    const fromEnv = await startCollector(['--config', file], { cwd: dir, listeners: 2, env });
    expect(fromEnv.addresses.map((a) => a.split('/')[0]).sort()).toEqual(['tcp', 'udp']);
    expect(await readyMaxBody(fromEnv.port('tcp'))).toBe(2000);
    await fromEnv.stop();

    const fromFlags = await startCollector(
      ['--config', file, '--listen', 'tcp/127.0.0.1:0', '--output', 'from-flag'],
      {
        cwd: dir,
        listeners: 1,
        env,
      },
    );
    expect(fromFlags.addresses).toHaveLength(1);
    expect(await readyMaxBody(fromFlags.port('tcp'))).toBe(2000);
    await fromFlags.stop();

    const { readdir } = await import('node:fs/promises');
    // Each output directory exists once its run chose it.
    expect((await readdir(dir)).filter((name) => name.startsWith('from-')).sort()).toEqual([
      'from-env',
      'from-file',
      'from-flag',
    ]);
  });

  it('refuses a bad environment value, naming the variable, the key and the reason', async () => {
    const result = await logwire(['collector', '--listen', 'tcp/127.0.0.1:0'], { LOGWIRE_MAX_BODY: 'lots' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('LOGWIRE_MAX_BODY: max_body must be a whole number of bytes');
    const typo = await logwire(['collector', '--listen', 'tcp/127.0.0.1:0'], { LOGWIRE_OUTPT: '/tmp/x' });
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('did you mean LOGWIRE_OUTPUT?');
  });
});

describe('logwire check-config', () => {
  it('accepts the shipped example with a one-line summary', async () => {
    const result = await logwire(['check-config', EXAMPLE_TOML]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toContain(`${EXAMPLE_TOML}: valid: listen=tcp/127.0.0.1:4043,udp/127.0.0.1:4043`);
  });

  it.each([
    ['max_body = "big"\n', 'max_body must be a whole number of bytes'],
    ['ouput = "./logs"\n', 'unknown key "ouput"; did you mean "output"?'],
    ['listen = ["tcp/127.0.0.1:4043", "tcp/127.0.0.1:4043"]\n', 'listen: tcp/127.0.0.1:4043 is given twice'],
    ['format = \n', 'line 1'],
    ['[[route]]\nto = ["alert"]\n', '[[route]] #1: to names an unknown output "alert"'],
    ['[jetstream]\nservers = ["http://x"]\n', '[jetstream] servers must be a NATS server URL'],
    [
      '[from_jetstream]\nservers = ["nats://127.0.0.1:4222"]\nconsumer = "a.b"\n',
      '[from_jetstream] consumer must be a name',
    ],
    [
      '[[output]]\nname = "js"\ntype = "jetstream"\n',
      '[[output]] "js" has type = "jetstream": name the servers',
    ],
  ])('refuses %j naming the file, the key and the reason', async (toml, reason) => {
    const file = join(dir, 'bad.toml');
    await writeFile(file, toml);
    const result = await logwire(['check-config', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`${file}: `);
    expect(result.stderr).toContain(reason);
  });

  it('names the outputs JetStream settings make: files and the stream, when output is given too', async () => {
    const file = join(dir, 'jetstream.toml');
    await writeFile(file, 'output = "./logs"\n[jetstream]\nservers = ["nats://127.0.0.1:4222"]\n');
    const result = await logwire(['check-config', file]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(' outputs=files,jetstream routes=0 ');
  });

  it('refuses a file that cannot be read, naming it', async () => {
    const result = await logwire(['check-config', join(dir, 'missing.toml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(join(dir, 'missing.toml'));
    expect(result.stderr).toContain('ENOENT');
  });
});
