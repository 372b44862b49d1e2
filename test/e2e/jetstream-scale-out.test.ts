/**
 * Scale-out on a 3-node JetStream cluster (R3) on loopback: four apps (the packed appender,
 * with a spool) ship 100,000 numbered records to two collectors that publish to the stream
 * (each app's address list fails over from the first to the second); a writing collector
 * reads the stream into files. Mid-stream the first collector is SIGKILLed (its apps fail
 * over), the stream's leader node is SIGKILLed (and started again later), and the writing
 * collector is SIGKILLed once and restarted. The files hold every record exactly once, and
 * the stream rejected duplicates (the batches the killed collector had stored but not acknowledged).
 * The apps reach each collector through a proxy that hands them its answers late, so a collector
 * killed at any moment leaves batches stored and not yet acknowledged.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, expect, it } from 'vitest';
import { type AppRun, runApp } from '../helpers/app-process.js';
import {
  type CollectorProcess,
  killAllCollectors,
  LOGWIRE_BIN,
  startCollector,
} from '../helpers/collector-process.js';
import { NatsCluster } from '../helpers/nats-cluster.js';

const APPS = 4;
const PER_APP = 25_000;
const TOTAL = APPS * PER_APP;
const STREAM = 'LOGWIRE';

let dir: string;
let cluster: NatsCluster | undefined;
let nc: NatsConnection | undefined;
const proxies: Server[] = [];
afterAll(async () => {
  for (const proxy of proxies) proxy.close();
  await killAllCollectors();
  await nc?.close();
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

/**
 * A TCP proxy to the collector on `port` that passes the apps' bytes at once and the collector's
 * answers `delayMs` late, in order. When the collector goes, the apps' connections are cut at
 * once and the answers still held are lost: ACKs of batches the stream already stored.
 */
async function lateAnswers(port: number, delayMs: number): Promise<string> {
  const server = createServer((client) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      setTimeout(() => {
        if (!client.destroyed) client.write(chunk);
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxies.push(server);
  return `tcp/127.0.0.1:${(server.address() as { port: number }).port}`;
}

/**
 * Re-checks an async condition every 20 ms, until it holds or the time is up. Not after each
 * answer: a check that parses the whole output file would take a core from the collectors.
 */
async function eventually(condition: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function storedMessages(): Promise<number> {
  const jsm = await jetstreamManager(nc!, { timeout: 2_000 });
  return (await jsm.streams.info(STREAM)).state.messages;
}

/** Record numbers in the writing tier's file, with how often each appears. */
async function numbersWritten(file: string): Promise<Map<number, number>> {
  const seen = new Map<number, number>();
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const n = (JSON.parse(line) as { n: number }).n;
    seen.set(n, (seen.get(n) ?? 0) + 1);
  }
  return seen;
}

async function statusField(collector: CollectorProcess, field: string): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    LOGWIRE_BIN,
    'signal',
    '--host',
    collector.addresses[0]!,
    '--reply',
    'STATUS',
  ]);
  const match = new RegExp(`(?:^|;)${field}=(\\d+)`).exec(stdout);
  if (match === null) throw new Error(`no ${field} in ${stdout}`);
  return Number(match[1]);
}

it('writes every record exactly once through collector, leader and writer kills', async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-js-e2e-'));
  cluster = await NatsCluster.start(join(dir, 'nats'), 3);
  nc = await connect({ servers: cluster.urls, maxReconnectAttempts: -1 });
  const jetstreamFlags = cluster.urls.flatMap((url) => ['--jetstream', url]);
  // The first collector saves with fsync. When a collector is killed, the batches it stored whose
  // ACKs were still on their way (lateAnswers) come again through the other, and the stream
  // drops them.
  const slowAcks = join(dir, 'front-a.toml');
  await writeFile(slowAcks, 'durability = "fsync"\n');
  const front = (name: string, extra: string[] = ['--config', slowAcks]) =>
    startCollector(['--listen', 'tcp/127.0.0.1:0', '--state', join(dir, name), ...extra, ...jetstreamFlags], {
      cwd: dir,
      listeners: 1,
    });
  // The first creates the stream (R3), the second finds it as configured.
  const first = await front('front-a', ['--config', slowAcks]);
  const second = await front('front-b');
  const writerArgs = (port: number) => [
    '--listen',
    `tcp/127.0.0.1:${port}`,
    '--output',
    join(dir, 'files'),
    ...cluster!.urls.flatMap((url) => ['--from-jetstream', url]),
  ];
  let writer = await startCollector(writerArgs(0), { cwd: dir, listeners: 1 });
  const writerPort = writer.port('tcp');

  const viaProxies = [await lateAnswers(first.port('tcp'), 300), await lateAnswers(second.port('tcp'), 300)];
  const appOptions = (i: number) => ({
    address: viaProxies,
    source: `app${i}`,
    spool: join(dir, `spool-${i}`),
    closeTimeout: 9_000,
  });
  const apps: Promise<AppRun>[] = [];
  for (let i = 0; i < APPS; i++)
    apps.push(
      runApp({
        count: PER_APP,
        first: i * PER_APP + 1,
        paceEvery: 100,
        // Paced so that the apps still log through every fail-over below (about 25 s each).
        paceMs: 100,
        timeoutMs: 180_000,
        options: appOptions(i),
      }),
    );
  const events: string[] = [];
  // While the stream elects a leader its info may not answer: the note says so.
  const note = async (what: string) => events.push(`${what}: ${await storedMessages().catch(() => '?')}`);

  // Mid-stream: the first collector dies; its apps fail over to the second.
  await eventually(async () => (await storedMessages()) >= 100, 'a tenth of the stream', 60_000);
  await first.stop('SIGKILL');
  await note('first collector killed');
  // The writing tier dies once and starts again on the same state.
  await eventually(async () => (await storedMessages()) >= 250, 'a quarter of the stream', 60_000);
  await writer.stop('SIGKILL');
  writer = await startCollector(writerArgs(writerPort), { cwd: dir, listeners: 1 });
  await note('writer killed and restarted');
  // Then the stream's leader node; the cluster elects another, and the node comes back.
  await eventually(async () => (await storedMessages()) >= 400, 'two fifths of the stream', 60_000);
  const leader = await cluster.streamLeader(STREAM);
  const before = await storedMessages();
  await cluster.kill(leader);
  await note(`leader ${leader.name} killed`);
  await eventually(
    async () => (await storedMessages()) > before + 100,
    'publishing under a new leader',
    60_000,
  );
  await cluster.restart(leader);
  await note('leader restarted');

  // A duplicate needs a kill between a PubAck and its ACK's arrival: while none has shown up yet, fail over again, back and forth (each collector restarted on its port).
  let duplicates = 0;
  let running = true;
  const appsDone = Promise.all(apps).finally(() => {
    running = false;
  });
  const fronts = { alive: second, dead: first, deadName: 'front-a', aliveName: 'front-b' };
  for (let cycle = 0; cycle < 6 && running; cycle++) {
    if (duplicates + (await statusField(fronts.alive, 'jetstream_duplicates')) > 0) break;
    const port = fronts.dead.port('tcp');
    const revived = await startCollector(
      [
        '--listen',
        `tcp/127.0.0.1:${port}`,
        '--state',
        join(dir, fronts.deadName),
        '--config',
        slowAcks,
        ...jetstreamFlags,
      ],
      { cwd: dir, listeners: 1 },
    );
    const at = await storedMessages();
    await eventually(async () => !running || (await storedMessages()) >= at + 30, 'more batches', 60_000);
    duplicates += await statusField(fronts.alive, 'jetstream_duplicates');
    await fronts.alive.stop('SIGKILL');
    await note(`${fronts.aliveName} killed`);
    Object.assign(fronts, {
      alive: revived,
      dead: fronts.alive,
      deadName: fronts.aliveName,
      aliveName: fronts.deadName,
    });
  }
  const runs = await appsDone;
  await note('apps done');
  process.stderr.write(`jetstream: batches stored when ${events.join(', ')}\n`);
  for (const run of runs) expect(run.code, run.stderr).toBe(0);
  // On a loaded machine an app may end before its last batches are acknowledged (a fail-over
  // just then): what its closeTimeout could not wait for stays in its spool, as it says, and its
  // next start ships it. Start those apps again, logging nothing new.
  for (const [i, run] of runs.entries()) {
    if (!/records stay in spool/.test(run.stderr)) continue;
    process.stderr.write(`jetstream: app${i} started again for what it left in its spool\n`);
    const again = await runApp({
      count: 0,
      timeoutMs: 60_000,
      options: { ...appOptions(i), closeTimeout: 9_000 },
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/records stay in spool/);
  }
  const file = join(dir, 'files', 'app.log');
  await eventually(
    async () => (await numbersWritten(file)).size >= TOTAL,
    'every record in the files',
    120_000,
  ).catch(async (error: unknown) => {
    // Slow or lost: say which, and where the gaps are.
    const have = await numbersWritten(file);
    const missing: number[] = [];
    for (let n = 1; n <= TOTAL && missing.length < 10; n++) if (!have.has(n)) missing.push(n);
    const said = runs.map((run, i) => `app${i}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    throw new Error(
      `${String(error)}: ${have.size} of ${TOTAL} numbers in the files; first missing ${missing}\n${said.join('\n')}`,
    );
  });
  const seen = await numbersWritten(file);
  const wrong = [...seen].filter(([n, times]) => times !== 1 || n < 1 || n > TOTAL);
  expect(wrong.slice(0, 10)).toEqual([]);
  expect(seen.size).toBe(TOTAL);

  duplicates += await statusField(fronts.alive, 'jetstream_duplicates');
  process.stderr.write(`jetstream: ${duplicates} batches rejected as duplicates by the stream\n`);
  expect(duplicates).toBeGreaterThan(0);
}, 300_000);
