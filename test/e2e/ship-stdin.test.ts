/**
 * `node app.js | logwire ship --address tcp/…`: 100,000 lines (some not JSON) through the real
 * CLI from a shell pipeline, with the collector SIGKILLed mid-stream and restarted: every line
 * is written exactly once, the plain ones wrapped as records with the line as msg.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import {
  type CollectorProcess,
  killAllCollectors,
  LOGWIRE_BIN,
  startCollector,
} from '../helpers/collector-process.js';
import { unansweringPort } from '../helpers/net-fixtures.js';
import { until } from '../helpers/until.js';

const TOTAL = 100_000;
const PAUSE_AT = 40_000;

// Writes lines 1..PAUSE_AT, waits for the test's go file, then the rest. Every 1000th is plain text.
const APP = `
import { existsSync } from 'node:fs';
const [total, pauseAt, go] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const line = (n) => n % 1000 === 0 ? 'plain line ' + n + ' "quoted" \\\\ back' : JSON.stringify({ level: 30, name: 'piped', n });
const write = (text) => new Promise((resolve) => process.stdout.write(text) ? resolve() : process.stdout.once('drain', resolve));
let chunk = '';
for (let n = 1; n <= total; n++) {
  chunk += line(n) + '\\n';
  if (n % 500 === 0 || n === total) { await write(chunk); chunk = ''; }
  if (n === pauseAt) while (!existsSync(go)) await new Promise((r) => setTimeout(r, 20));
}
`;

let dir: string;
afterEach(async () => {
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

function lineCount(path: string): number {
  if (!existsSync(path)) return 0;
  const text = readFileSync(path, 'utf8');
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count += 1;
  return count;
}

it('delivers 100,000 piped lines exactly once across a collector SIGKILL', async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-ship-stdin-'));
  const logs = join(dir, 'logs');
  const args = (port: number) => ['--listen', `tcp/127.0.0.1:${port}`, '--output', logs];
  let collector: CollectorProcess = await startCollector(args(0), { cwd: dir, listeners: 1 });
  const port = collector.port('tcp');
  await writeFile(join(dir, 'app.mjs'), APP);
  const go = join(dir, 'go');
  const pipeline = spawn(
    '/bin/sh',
    [
      '-c',
      `"$0" app.mjs ${TOTAL} ${PAUSE_AT} "$1" | "$0" "$2" ship --address tcp/127.0.0.1:${port} --spool "$3"`,
      process.execPath,
      go,
      LOGWIRE_BIN,
      join(dir, 'ship'),
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  pipeline.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const exited = once(pipeline, 'exit');
  try {
    const output = join(logs, 'piped.log');
    await until(() => lineCount(output) >= PAUSE_AT / 2, 'the first records in the output');
    collector.child.kill('SIGKILL');
    await collector.exited;
    // Lines go on into ship while the collector is down: they wait in its spool.
    await writeFile(go, '');
    collector = await startCollector(args(port), { cwd: dir, listeners: 1 });
    const [code] = await exited;
    expect(code, stderr).toBe(0);
    const records = readFileSync(output, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { n?: number; msg?: string; level: number });
    const seen = new Map<number, number>();
    for (const record of records) {
      const n = record.n ?? Number(/^plain line (\d+) /.exec(record.msg ?? '')?.[1]);
      seen.set(n, (seen.get(n) ?? 0) + 1);
    }
    const wrong = [...seen].filter(([, times]) => times !== 1);
    expect(wrong).toEqual([]);
    expect(seen.size).toBe(TOTAL);
    expect(records.length).toBe(TOTAL);
    const plain = records.find((record) => record.msg?.startsWith('plain line 1000 '));
    expect(plain).toMatchObject({ level: 30, msg: 'plain line 1000 "quoted" \\ back' });
  } finally {
    if (pipeline.exitCode === null) pipeline.kill('SIGKILL');
  }
}, 120_000);

it('with no collector, reports each undelivered record once and exits 1 once --timeout has run out', async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-ship-stdin-'));
  const dead = await unansweringPort();
  try {
    const ship = spawn(
      process.execPath,
      [LOGWIRE_BIN, 'ship', '--address', `tcp/127.0.0.1:${dead.port}`, '--timeout', '1000'],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let stderr = '';
    ship.stderr!.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    ship.stdin!.end('x\n{"msg":"y"}\nz\n');
    const [code] = await once(ship, 'exit');
    expect(code).toBe(1);
    expect(stderr).toContain('logwire ship: 3 of 3 records were not delivered');
    // closing waits no longer than ship's own --timeout did: no second, longer wait announced.
    expect(stderr).not.toMatch(/waiting up to \d+ ms/);
  } finally {
    dead.stop();
  }
});
