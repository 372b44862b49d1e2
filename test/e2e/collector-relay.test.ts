/**
 * The relay (`--forward`): app → relay A → upstream B with the real CLI and a real pino app
 * shipping through the packed appender without a spool (the app is never killed: it holds what is unacknowledged and waits for
 * it at exit). Every record reaches B's files exactly
 * once, in order, under the app's own service, across kills of A and B, with B down while A
 * spools, across a failover from B to B2, and through a chain A → B → C. With `--output` too, A
 * fans out to its files and the forward output: its files keep going while B is down.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runApp } from '../helpers/app-process.js';
import {
  type CollectorProcess,
  killAllCollectors,
  LOGWIRE_BIN,
  startCollector,
} from '../helpers/collector-process.js';
import { freePort } from '../helpers/net-fixtures.js';
import { eventually, expectOneToN, numbersIn } from '../helpers/records.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-relay-'));
});
afterEach(async () => {
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

/** An upstream collector writing files under `<dir>/<name>`. */
function upstream(name: string, port = 0): Promise<CollectorProcess> {
  const home = join(dir, name);
  return startCollector(['--listen', `tcp/127.0.0.1:${port}`, '--output', join(home, 'logs')], {
    cwd: dir,
    listeners: 1,
  });
}

/** A relay forwarding to `targets` (in failover order), its state under `<dir>/<name>`. */
function relay(name: string, targets: readonly string[], port = 0): Promise<CollectorProcess> {
  const forward = targets.flatMap((target) => ['--forward', target]);
  return startCollector(
    ['--listen', `tcp/127.0.0.1:${port}`, '--state', join(dir, name, 'state'), ...forward],
    { cwd: dir, listeners: 1 },
  );
}

/** Lines in a file so far (0 when it does not exist yet). */
async function lines(path: string): Promise<number> {
  try {
    const data = await readFile(path);
    let count = 0;
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) count++;
    return count;
  } catch {
    return 0;
  }
}

/** STATUS through `logwire signal --reply`, as `name=value` fields. */
async function status(port: number): Promise<Record<string, string>> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    LOGWIRE_BIN,
    'signal',
    '--host',
    `tcp/127.0.0.1:${port}`,
    '--reply',
    'STATUS',
  ]);
  return Object.fromEntries(
    stdout
      .trim()
      .replace(/^OK /, '')
      .split(';')
      .map((field) => field.split('=', 2) as [string, string]),
  );
}

const appOptions = (port: number) => ({
  address: `tcp/127.0.0.1:${port}`,
  backoff: [100],
  closeTimeout: 9000,
});

it('relays every record once through A to B, under the app service, and A spools while B is down', async () => {
  const bPort = await freePort();
  const a = await relay('a', [`tcp/127.0.0.1:${bPort}`]);
  const run = await runApp({ options: appOptions(a.port('tcp')), count: 20_000, name: 'relayed' });
  expect(run.code, run.stderr).toBe(0);
  // B has not started: A holds every record in its spool, acknowledged to the app.
  const held = await status(a.port('tcp'));
  expect(held.forward_waiting).toBe('20000');
  expect(held.forward_state).toBe('lost');
  expect(Number(held.forward_spool_bytes)).toBeGreaterThan(20_000 * 50);
  const b = await upstream('b', bPort);
  const file = join(dir, 'b', 'logs', 'relayed.log');
  await eventually(async () => expect(await lines(file)).toBe(20_000), 30_000);
  await eventually(async () => expect((await status(a.port('tcp'))).forward_waiting).toBe('0'), 10_000);
  const drained = await status(a.port('tcp'));
  expect(drained.forward_state).toBe('ready');
  expect(drained.forward_spool_bytes).toBe('0');
  expect((await a.stop()).code).toBe(0);
  expect((await b.stop()).code).toBe(0);
  expectOneToN(await numbersIn(file), 20_000);
}, 90_000);

it('keeps every record exactly once in B across three SIGKILLs of A and three of B, mid-stream', async () => {
  const TOTAL = 200_000;
  let b = await upstream('b');
  const bPort = b.port('tcp');
  let a = await relay('a', [`tcp/127.0.0.1:${bPort}`]);
  const aPort = a.port('tcp');
  const file = join(dir, 'b', 'logs', 'paced.log');
  const app = runApp({
    options: appOptions(aPort),
    count: TOTAL,
    name: 'paced',
    paceEvery: 1000,
    paceMs: 60,
    timeoutMs: 170_000,
  });
  // Alternately A and B, each once B's file has grown past the next mark.
  const kills: Array<['a' | 'b', number]> = [
    ['a', 15_000],
    ['b', 45_000],
    ['a', 75_000],
    ['b', 105_000],
    ['a', 135_000],
    ['b', 165_000],
  ];
  for (const [which, at] of kills) {
    await eventually(async () => expect(await lines(file)).toBeGreaterThanOrEqual(at), 120_000);
    if (which === 'a') {
      a.child.kill('SIGKILL');
      await a.exited;
      a = await relay('a', [`tcp/127.0.0.1:${bPort}`], aPort);
    } else {
      b.child.kill('SIGKILL');
      await b.exited;
      b = await upstream('b', bPort);
    }
  }
  const run = await app;
  expect(run.code, run.stderr).toBe(0);
  await eventually(async () => expect((await status(aPort)).forward_waiting).toBe('0'), 60_000);
  expect((await a.stop()).code).toBe(0);
  expect((await b.stop()).code).toBe(0);
  expectOneToN(await numbersIn(file), TOTAL);
}, 240_000);

it('fails over from B to B2 when B is killed for good: every record in B or B2, in order, the overlap only B’s last unacknowledged window', async () => {
  const TOTAL = 40_000;
  const b = await upstream('b');
  const b2 = await upstream('b2');
  const a = await relay('a', [b.addresses[0]!, b2.addresses[0]!]);
  const fileB = join(dir, 'b', 'logs', 'switch.log');
  const fileB2 = join(dir, 'b2', 'logs', 'switch.log');
  const app = runApp({
    options: appOptions(a.port('tcp')),
    count: TOTAL,
    name: 'switch',
    paceEvery: 1000,
    paceMs: 40,
  });
  await eventually(async () => expect(await lines(fileB)).toBeGreaterThanOrEqual(10_000), 60_000);
  b.child.kill('SIGKILL');
  await b.exited;
  const run = await app;
  expect(run.code, run.stderr).toBe(0);
  await eventually(async () => expect((await status(a.port('tcp'))).forward_waiting).toBe('0'), 60_000);
  // B starts once more, elsewhere, only to cut what it wrote and never committed.
  const again = await upstream('b');
  expect((await again.stop()).code).toBe(0);
  const before = await numbersIn(fileB);
  const after = await numbersIn(fileB2);
  expectOneToN(before, before.length);
  // B2 starts where B's acknowledged part ended: at most what was in flight when B died overlaps.
  const overlap = before.length - (after[0]! - 1);
  expect(overlap).toBeGreaterThanOrEqual(0);
  expect(overlap).toBeLessThan(5_000);
  expectOneToN([...before.slice(0, after[0]! - 1), ...after], TOTAL);
  expect((await a.stop()).code).toBe(0);
  expect((await b2.stop()).code).toBe(0);
}, 120_000);

it('relays through a chain A → B → C: every record once in C', async () => {
  const c = await upstream('c');
  const b = await relay('b', [c.addresses[0]!]);
  const a = await relay('a', [b.addresses[0]!]);
  const run = await runApp({ options: appOptions(a.port('tcp')), count: 20_000, name: 'chained' });
  expect(run.code, run.stderr).toBe(0);
  const file = join(dir, 'c', 'logs', 'chained.log');
  await eventually(async () => expect(await lines(file)).toBe(20_000), 30_000);
  for (const relayed of [a, b])
    await eventually(
      async () => expect((await status(relayed.port('tcp'))).forward_waiting).toBe('0'),
      10_000,
    );
  for (const collector of [a, b, c]) expect((await collector.stop()).code).toBe(0);
  expectOneToN(await numbersIn(file), 20_000);
}, 90_000);

it('fans out to files and forward with the upstream down: files keep going, the spool grows, then drains once each', async () => {
  const TOTAL = 10_000;
  const bPort = await freePort();
  const aLogs = join(dir, 'a', 'logs');
  // --output with --forward: both outputs, each required.
  const a = await startCollector(
    ['--listen', 'tcp/127.0.0.1:0', '--output', aLogs, '--forward', `tcp/127.0.0.1:${bPort}`],
    { cwd: dir, listeners: 1 },
  );
  const run = await runApp({ options: appOptions(a.port('tcp')), count: TOTAL, name: 'fanned' });
  // The app exits 0 only once every record is acknowledged: written to A's files and spooled.
  expect(run.code, run.stderr).toBe(0);
  const local = join(aLogs, 'fanned.log');
  expectOneToN(await numbersIn(local), TOTAL);
  const held = await status(a.port('tcp'));
  expect(held.forward_waiting).toBe(String(TOTAL));
  expect(held.forward_state).toBe('lost');
  expect(held.output_files_written).toBe(String(TOTAL));
  expect(held.output_forward_written).toBe(String(TOTAL));
  expect(Number(held.forward_spool_bytes)).toBeGreaterThan(0);

  const b = await upstream('b', bPort);
  const upstreamFile = join(dir, 'b', 'logs', 'fanned.log');
  await eventually(async () => expect((await status(a.port('tcp'))).forward_waiting).toBe('0'), 30_000);
  await eventually(async () => expect(await lines(upstreamFile)).toBe(TOTAL), 30_000);
  const drained = await status(a.port('tcp'));
  expect(drained.forward_state).toBe('ready');
  expect(drained.forward_spool_bytes).toBe('0');
  expect((await a.stop()).code).toBe(0);
  expect((await b.stop()).code).toBe(0);
  expectOneToN(await numbersIn(upstreamFile), TOTAL);
  // Nothing more reached A's files while the spool drained.
  expectOneToN(await numbersIn(local), TOTAL);
}, 90_000);
