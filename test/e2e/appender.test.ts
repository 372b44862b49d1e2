/**
 * Issue #4, end to end: a real pino app (child process, `target: 'logwire/appender'` from the
 * packed install) shipping to the real collector CLI.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runApp } from '../helpers/app-process.js';
import { testCert } from '../helpers/certs.js';
import { type CollectorProcess, killAllCollectors, startCollector } from '../helpers/collector-process.js';
import { freePort } from '../helpers/net-fixtures.js';
import { eventually, expectOneToN, numbersIn } from '../helpers/records.js';

let dir: string;
let logs: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-appender-e2e-'));
  logs = join(dir, 'logs');
});

afterEach(async () => {
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

/** A collector on a loopback TCP port of its own, writing into `logs`. */
function tcpCollector(): Promise<CollectorProcess> {
  return startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', logs], { cwd: dir, listeners: 1 });
}

async function configWithEveryListener(): Promise<string> {
  const cert = testCert();
  await writeFile(join(dir, 'cert.pem'), cert.cert);
  await writeFile(join(dir, 'key.pem'), cert.key);
  const tls = `tls_cert = "${join(dir, 'cert.pem')}"\ntls_key = "${join(dir, 'key.pem')}"`;
  await writeFile(
    join(dir, 'c.toml'),
    `output = "${logs}"
[[listen]]
address = "tcp/127.0.0.1:0"
[[listen]]
address = "tls/127.0.0.1:0"
${tls}
[[listen]]
address = "unix/${join(dir, 'c.sock')}"
[[listen]]
address = "ws/127.0.0.1:0/logs"
[[listen]]
address = "wss/127.0.0.1:0/logs"
${tls}
`,
  );
  return join(dir, 'c.toml');
}

describe('100,000 records arrive exactly once and in order', () => {
  it.each(['tcp', 'tls', 'unix', 'ws', 'wss'])(
    'over %s',
    async (scheme) => {
      const collector = await startCollector(['--config', await configWithEveryListener()], {
        cwd: dir,
        listeners: 5,
      });
      const address = collector.addresses.find((a) => a.startsWith(`${scheme}/`))!;
      const run = await runApp({
        options: { address, tls: { ca: testCert().cert.toString() } },
        count: 100_000,
        name: `over-${scheme}`,
      });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe('');
      expectOneToN(await numbersIn(join(logs, `over-${scheme}.log`)), 100_000);
    },
    120_000,
  );
});

it('loses nothing and duplicates nothing when the collector is killed and restarted mid-stream', async () => {
  const args = (port: number) => ['--listen', `tcp/127.0.0.1:${port}`, '--output', logs];
  let collector = await startCollector(args(0), { cwd: dir, listeners: 1 });
  const port = collector.port('tcp');
  const app = runApp({
    options: { address: `tcp/127.0.0.1:${port}`, backoff: [50, 100, 200] },
    count: 100_000,
    name: 'restart',
    paceEvery: 1000,
    paceMs: 10,
  });
  await eventually(
    async () => expect((await numbersIn(join(logs, 'restart.log'))).length).toBeGreaterThan(20_000),
    30_000,
  );
  collector.child.kill('SIGKILL');
  await collector.exited;
  collector = await startCollector(args(port), { cwd: dir, listeners: 1 });
  const run = await app;
  expect(run.code, run.stderr).toBe(0);
  expectOneToN(await numbersIn(join(logs, 'restart.log')), 100_000);
}, 120_000);

it('reports the unacknowledged count at close when the collector never acknowledges', async () => {
  const collector = await tcpCollector();
  const app = runApp({
    options: { address: collector.addresses[0], closeTimeout: 1000 },
    count: 20_000,
    name: 'stalled',
    paceEvery: 500,
    paceMs: 50,
  });
  await eventually(
    async () => expect((await numbersIn(join(logs, 'stalled.log'))).length).toBeGreaterThan(0),
    30_000,
  );
  collector.child.kill('SIGSTOP'); // alive, connected, silent: nothing more is acknowledged
  const run = await app;
  collector.child.kill('SIGCONT');
  // Stopped before its file is read (a read during the write it resumes could end mid-line).
  expect((await collector.stop()).code).toBe(0);
  expect(run.code).toBe(0);
  const match = /logwire appender: (\d+) records not acknowledged within closeTimeout/.exec(run.stderr);
  expect(match, run.stderr).not.toBeNull();
  // Everything the collector had not acknowledged when it froze is counted, nothing more.
  const written = (await numbersIn(join(logs, 'stalled.log'))).length;
  expect(Number(match![1])).toBeGreaterThanOrEqual(20_000 - written);
  expect(Number(match![1])).toBeLessThanOrEqual(20_000);
}, 60_000);

it('with a spool, process.exit() right after logging while the collector is down loses nothing', async () => {
  const spool = join(dir, 'spool');
  const port = await freePort();
  const address = `tcp/127.0.0.1:${port}`;
  const first = await runApp({
    options: { address, spool, closeTimeout: 500, backoff: [100] },
    count: 20_000,
    name: 'spooled',
    end: 'exit',
  });
  expect(first.code).toBe(0);
  expect(first.stderr).toMatch(/20000 records stay in spool/);
  const collector = await startCollector(['--listen', address, '--output', logs], { cwd: dir, listeners: 1 });
  // The next run ships what the first left, before and beside its own records.
  const second = await runApp({ options: { address, spool }, count: 1000, first: 20_001, name: 'spooled' });
  expect(second.code, second.stderr).toBe(0);
  expectOneToN(await numbersIn(join(logs, 'spooled.log')), 21_000);
  expect((await collector.stop()).code).toBe(0);
}, 60_000);

describe('in process (pino(await createAppender(options)), no worker)', () => {
  it('ships every record exactly once and in order, and ends with the stream', async () => {
    const collector = await tcpCollector();
    const run = await runApp({
      options: { address: collector.addresses[0] },
      count: 20_000,
      name: 'inproc',
      inProcess: true,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expectOneToN(await numbersIn(join(logs, 'inproc.log')), 20_000);
  }, 60_000);

  it('process.exit() before the stream closed: every record not acknowledged is reported and goes to fallback', async () => {
    const port = await freePort();
    const fallback = join(dir, 'fallback.ndjson');
    const run = await runApp({
      options: { address: `tcp/127.0.0.1:${port}`, fallback },
      count: 300,
      name: 'exiting',
      inProcess: true,
      end: 'exit',
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /logwire appender: 300 records not acknowledged when the process exited \(collector tcp\/127\.0\.0\.1:\d+ not connected[^)]*\) were written to fallback /,
    );
    expectOneToN(await numbersIn(fallback), 300);
  }, 60_000);

  it('with a spool, process.exit(): what reached the spool ships next start, the rest goes to fallback', async () => {
    const spool = join(dir, 'spool');
    const fallback = join(dir, 'fallback.ndjson');
    const address = `tcp/127.0.0.1:${await freePort()}`;
    // The collector is down. 20,000 records are logged with pauses (the spool takes them); the
    // last 9,999 in a burst just before process.exit(), many batches still on their way to disk.
    const first = await runApp({
      options: { address, spool, fallback, batch: { maxBytes: 65_536 } },
      count: 29_999, // no pause after the last record
      name: 'spooled',
      paceEvery: 10_000,
      paceMs: 300,
      inProcess: true,
      end: 'exit',
    });
    expect(first.code).toBe(0);
    const stayed = /(\d+) records stay in spool/.exec(first.stderr);
    const pending =
      /(\d+) records still being written to spool .* when the process exited were written to fallback .* \(the first (\d+) may also be in the spool\)/.exec(
        first.stderr,
      );
    expect(stayed, first.stderr).not.toBeNull();
    expect(pending, first.stderr).not.toBeNull();
    const inFallback = await numbersIn(fallback);
    const collector = await startCollector(['--listen', address, '--output', logs], {
      cwd: dir,
      listeners: 1,
    });
    const second = await runApp({ options: { address, spool }, count: 100, first: 30_000, name: 'spooled' });
    expect(second.code, second.stderr).toBe(0);
    const shipped = (await numbersIn(join(logs, 'spooled.log'))).filter((n) => n < 30_000);
    // Every record is in the spool's shipment or in the fallback; only the batch whose write was
    // under way at exit may be in both, and the report says how many that can be.
    const fallbackSet = new Set(inFallback);
    const both = shipped.filter((n) => fallbackSet.has(n));
    expect(both.length).toBeLessThanOrEqual(Number(pending![2]));
    expectOneToN(
      [...new Set([...shipped, ...inFallback])].sort((a, b) => a - b),
      29_999,
    );
    expect(shipped.length).toBeGreaterThanOrEqual(Number(stayed![1]));
    expect((await collector.stop()).code).toBe(0);
  }, 60_000);

  it('process.exit() with records in flight to a collector gone silent: all of them are counted', async () => {
    const collector = await tcpCollector();
    const fallback = join(dir, 'fallback.ndjson');
    const app = runApp({
      options: { address: collector.addresses[0], fallback },
      count: 20_000,
      name: 'frozen',
      paceEvery: 500,
      paceMs: 50,
      inProcess: true,
      end: 'exit',
    });
    await eventually(
      async () => expect((await numbersIn(join(logs, 'frozen.log'))).length).toBeGreaterThan(0),
      30_000,
    );
    collector.child.kill('SIGSTOP'); // connected and silent: nothing more is acknowledged
    const run = await app;
    collector.child.kill('SIGCONT');
    // Stopped before its file is read: woken, it goes on with the write it was frozen in, and a
    // read meanwhile could end in half a line.
    expect((await collector.stop()).code).toBe(0);
    expect(run.code).toBe(0);
    const match =
      /logwire appender: (\d+) records not acknowledged when the process exited .* were written to fallback/.exec(
        run.stderr,
      );
    expect(match, run.stderr).not.toBeNull();
    const inFallback = await numbersIn(fallback);
    expect(inFallback).toHaveLength(Number(match![1]));
    // Written by the collector or in the fallback: every record is somewhere (a record written
    // but not yet acknowledged when the collector froze is in both).
    const written = await numbersIn(join(logs, 'frozen.log'));
    expectOneToN(
      [...new Set([...written, ...inFallback])].sort((a, b) => a - b),
      20_000,
    );
  }, 60_000);

  it("records held in the stream's own buffer ('block', collector down) are reported at exit too", async () => {
    const fallback = join(dir, 'fallback.ndjson');
    const run = await runApp({
      options: {
        address: `tcp/127.0.0.1:${await freePort()}`,
        fallback,
        queue: { maxBytes: 4000, overflow: 'block' },
        batch: { maxBytes: 1000 },
      },
      count: 1000,
      name: 'blocked',
      inProcess: true,
      end: 'exit',
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/logwire appender: 1000 records not acknowledged when the process exited/);
    expectOneToN(await numbersIn(fallback), 1000);
  }, 60_000);

  it("a record logged by the app's own 'exit' listener, after the report, goes to fallback and is counted", async () => {
    const fallback = join(dir, 'fallback.ndjson');
    const run = await runApp({
      options: { address: `tcp/127.0.0.1:${await freePort()}`, fallback },
      count: 10,
      name: 'late',
      inProcess: true,
      end: 'exit',
      logAtExit: true,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/10 records not acknowledged when the process exited/);
    expect(run.stderr).toMatch(/1 records logged after the exit report were written to fallback/);
    expectOneToN(await numbersIn(fallback), 11);
  }, 60_000);
});

describe('on its own shipping thread (createThreadedAppender)', () => {
  it('ships every record exactly once and in order; a natural exit waits for the acknowledgements', async () => {
    const collector = await tcpCollector();
    const run = await runApp({
      options: { address: collector.addresses[0] },
      count: 100_000,
      name: 'threaded',
      threaded: true,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expectOneToN(await numbersIn(join(logs, 'threaded.log')), 100_000);
  }, 60_000);

  it('a ring that fills over and over: the lines that did not fit are posted, and every record arrives once, in order', async () => {
    const collector = await tcpCollector();
    const run = await runApp({
      options: { address: collector.addresses[0] },
      count: 30_000,
      name: 'tiny',
      threaded: true,
      ringBytes: 2048,
      // Pauses let the thread take everything, so the app goes back to the ring between bursts.
      paceEvery: 3000,
      paceMs: 1,
      flush: true,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('flushed: 30000 acknowledged\n');
    expectOneToN(await numbersIn(join(logs, 'tiny.log')), 30_000);
  }, 60_000);

  it('resolves without waiting for the thread to start; what the app logs meanwhile arrives, once', async () => {
    const collector = await tcpCollector();
    const run = await runApp({
      options: { address: collector.addresses[0] },
      count: 3000,
      name: 'early',
      threaded: true,
      reportStart: true,
      end: 'exit',
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('created at once\n');
    expectOneToN(await numbersIn(join(logs, 'early.log')), 3000);
  }, 60_000);

  it('logger.flush() calls back once everything logged is acknowledged', async () => {
    const collector = await tcpCollector();
    const run = await runApp({
      options: { address: collector.addresses[0] },
      count: 5000,
      name: 'flushed',
      threaded: true,
      flush: true,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('flushed: 5000 acknowledged\n');
  }, 60_000);

  it('records logged after end() go to fallback and are counted at exit; the rest arrive', async () => {
    const collector = await tcpCollector();
    const fallback = join(dir, 'fallback.ndjson');
    const run = await runApp({
      options: { address: collector.addresses[0], fallback },
      count: 2000,
      name: 'ended',
      threaded: true,
      afterEnd: 10,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe(
      `logwire appender: 10 records logged after end() were written to fallback ${fallback}\n`,
    );
    expectOneToN(await numbersIn(join(logs, 'ended.log')), 2000);
    expect(await numbersIn(fallback)).toEqual(Array.from({ length: 10 }, (_, k) => 2001 + k));
  }, 60_000);

  it('process.exit() right after logging, collector down: the thread closes within closeTimeout and reports', async () => {
    const fallback = join(dir, 'fallback.ndjson');
    const run = await runApp({
      options: { address: `tcp/127.0.0.1:${await freePort()}`, fallback, closeTimeout: 300 },
      count: 500,
      name: 'threaded',
      threaded: true,
      end: 'exit',
      logAtExit: true,
    });
    expect(run.code).toBe(0);
    // The record logged by the app's own 'exit' listener, after the appender's, is counted too.
    expect(run.stderr).toMatch(
      /logwire appender: 500 records not acknowledged within closeTimeout \(300 ms; .*\) were written to fallback/,
    );
    expect(run.stderr).toMatch(/1 records logged after the exit report were written to fallback/);
    expectOneToN(await numbersIn(fallback), 501);
  }, 60_000);

  it('with a spool, process.exit() while the collector is down loses nothing: the next run ships it', async () => {
    const spool = join(dir, 'spool');
    const address = `tcp/127.0.0.1:${await freePort()}`;
    const first = await runApp({
      options: { address, spool, closeTimeout: 300 },
      count: 20_000,
      name: 'threaded',
      threaded: true,
      end: 'exit',
    });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/20000 records stay in spool/);
    const collector = await startCollector(['--listen', address, '--output', logs], {
      cwd: dir,
      listeners: 1,
    });
    const second = await runApp({
      options: { address, spool },
      count: 1000,
      first: 20_001,
      name: 'threaded',
      threaded: true,
    });
    expect(second.code, second.stderr).toBe(0);
    expectOneToN(await numbersIn(join(logs, 'threaded.log')), 21_000);
    expect((await collector.stop()).code).toBe(0);
  }, 60_000);

  it('a bad option rejects createThreadedAppender in the caller, with its code', async () => {
    const run = await runApp({ options: { address: 'nonsense' }, count: 1, name: 'bad', threaded: true });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/LW_ERR_BAD_OPTION/);
  }, 60_000);
});

it('keeps logging with the collector down: the queue policy bounds memory, drops are counted', async () => {
  const port = await freePort();
  const run = await runApp({
    options: { address: `tcp/127.0.0.1:${port}`, queue: { maxBytes: 1_000_000 }, closeTimeout: 200 },
    count: 200_000,
    name: 'down',
  });
  expect(run.code).toBe(0);
  expect(run.stderr).toMatch(/records were dropped \(\d+ by the queue's overflow policy/);
});

it('over UDP: records arrive, a record larger than a datagram is dropped and counted, never sent', async () => {
  const collector = await startCollector(['--listen', 'udp/127.0.0.1:0', '--output', logs], {
    cwd: dir,
    listeners: 1,
  });
  const run = await runApp({
    options: { address: collector.addresses[0], udp: { maxDatagram: 4096 } },
    count: 500,
    name: 'over-udp',
    paceEvery: 50,
    paceMs: 5,
    big: { at: 250, bytes: 10_000 },
  });
  expect(run.code).toBe(0);
  expect(run.stderr).toMatch(/1 records were dropped \(0 by the queue's overflow policy, 1 too large\)/);
  // UDP promises no delivery; on loopback at this pace every datagram arrives.
  await eventually(async () => {
    const numbers = await numbersIn(join(logs, 'over-udp.log'));
    expect(numbers).toEqual(Array.from({ length: 500 }, (_, i) => i + 1).filter((n) => n !== 250));
  });
});

it('works inside targets, beside another transport', async () => {
  const collector = await tcpCollector();
  const beside = join(dir, 'beside.log');
  const run = await runApp({
    options: { address: collector.addresses[0] },
    count: 10_000,
    name: 'targets',
    alsoFile: beside,
  });
  expect(run.code, run.stderr).toBe(0);
  expectOneToN(await numbersIn(join(logs, 'targets.log')), 10_000);
  expectOneToN(await numbersIn(beside), 10_000);
});

it('fails over to the next address when the first does not answer', async () => {
  const collector = await tcpCollector();
  const down = `tcp/127.0.0.1:${await freePort()}`;
  const run = await runApp({
    options: { address: [down, collector.addresses[0]] },
    count: 10_000,
    name: 'failover',
  });
  expect(run.code, run.stderr).toBe(0);
  expectOneToN(await numbersIn(join(logs, 'failover.log')), 10_000);
});
