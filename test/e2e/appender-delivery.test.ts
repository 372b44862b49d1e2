/**
 * Nothing silent, end to end (a real pino app, the real collector CLI): a numbered batch is
 * never dropped for its size (PROTOCOL.md §3), a half-open link is noticed in seconds and left
 * for the next collector, and a wait at exit is said at once.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runApp } from '../helpers/app-process.js';
import { killAllCollectors, startCollector } from '../helpers/collector-process.js';
import { freePort } from '../helpers/net-fixtures.js';
import { eventually, expectOneToN, numbersIn } from '../helpers/records.js';

let dir: string;
const servers: Server[] = [];
const sockets = new Set<Socket>();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-delivery-e2e-'));
});

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

/** A collector on `listen` writing under `<dir>/<name>`, with `max_body` when given. */
async function collector(name: string, listen: string, maxBody?: number) {
  const config = join(dir, `${name}.toml`);
  await writeFile(
    config,
    `output = "${join(dir, name)}"\nlisten = ["${listen}"]\n${maxBody === undefined ? '' : `max_body = ${maxBody}\n`}`,
  );
  return startCollector(['--config', config], { cwd: dir, listeners: 1 });
}

/**
 * A TCP proxy to `port` that passes the first `passBytes` bytes from the clients, then
 * black-holes the rest: nothing more reaches the collector, nothing is closed or reset, and
 * what the collector says still comes back (its acknowledgements of what it got).
 */
async function blackHoleAfter(port: number, passBytes: number): Promise<number> {
  let passed = 0;
  const server = createServer((client) => {
    sockets.add(client);
    const upstream = tcpConnect(port, '127.0.0.1');
    sockets.add(upstream);
    client.on('error', () => {});
    upstream.on('error', () => {});
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('data', (chunk: Buffer) => {
      const room = Math.max(0, passBytes - passed);
      passed += Math.min(room, chunk.length);
      if (room > 0) upstream.write(chunk.subarray(0, room));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

it('ships a spool written against a large max_body to a collector with a small one: every record once', async () => {
  const spool = join(dir, 'spool');
  const address = `tcp/127.0.0.1:${await freePort()}`;
  // Collector down: the spool numbers every batch against the protocol's default 16 MiB.
  const first = await runApp({
    options: { address, spool, closeTimeout: 500, backoff: [100] },
    count: 20_000,
    name: 'spooled',
    end: 'exit',
  });
  expect(first.stderr).toMatch(/20000 records stay in spool/);
  const small = await collector('small', address, 2048);
  const second = await runApp({ options: { address, spool }, count: 1000, first: 20_001, name: 'spooled' });
  expect(second.code, second.stderr).toBe(0);
  expect(second.stderr).not.toMatch(/dropped|not acknowledged/);
  expectOneToN(await numbersIn(join(dir, 'small', 'spooled.log')), 21_000);
  expect((await small.stop()).code).toBe(0);
}, 60_000);

it('fails over from a black-holed collector with a large max_body to one with a small max_body in seconds: every record once', async () => {
  const large = await collector('large', 'tcp/127.0.0.1:0');
  const small = await collector('small', 'tcp/127.0.0.1:0', 2048);
  // 200 kB get through: a few of the burst's large batches, acknowledged; then silence.
  const proxy = await blackHoleAfter(large.port('tcp'), 200_000);
  const run = await runApp({
    // Batches of up to 64 KiB: 32 times the small collector's max_body.
    options: { address: [`tcp/127.0.0.1:${proxy}`, small.addresses[0]], batch: { maxBytes: 65_536 } },
    count: 100_000,
    name: 'failover',
  });
  expect(run.code, run.stderr).toBe(0);
  expect(run.stderr).not.toMatch(/dropped|not acknowledged/);
  const before = await numbersIn(join(dir, 'large', 'failover.log'));
  const after = await numbersIn(join(dir, 'small', 'failover.log'));
  expect(before.length).toBeGreaterThan(0);
  expect(after.length).toBeGreaterThan(0);
  // The large collector acknowledged all it wrote: nothing of it is sent again.
  expectOneToN([...before, ...after], 100_000);
}, 60_000);

it('notices a SIGSTOPped collector in seconds and fails over: every record arrives', async () => {
  const stopped = await collector('stopped', 'tcp/127.0.0.1:0');
  const next = await collector('next', 'tcp/127.0.0.1:0');
  const app = runApp({
    options: { address: [stopped.addresses[0], next.addresses[0]] },
    count: 20_000,
    name: 'sigstop',
    paceEvery: 500,
    paceMs: 50,
  });
  await eventually(
    async () => expect((await numbersIn(join(dir, 'stopped', 'sigstop.log'))).length).toBeGreaterThan(2000),
    30_000,
  );
  stopped.child.kill('SIGSTOP'); // alive, connected, silent: no reset ever comes
  const run = await app;
  expect(run.code, run.stderr).toBe(0);
  expect(run.stderr).not.toMatch(/dropped|not acknowledged/);
  const first = await numbersIn(join(dir, 'stopped', 'sigstop.log'));
  const then = await numbersIn(join(dir, 'next', 'sigstop.log'));
  // The next collector got each record once; the stopped one may have written some of them
  // without its ACK getting out (a store downstream deduplicates by source and seq).
  expect(new Set(then).size).toBe(then.length);
  expectOneToN(
    [...new Set([...first, ...then])].sort((a, b) => a - b),
    20_000,
  );
}, 60_000);

it('says on stderr at once that it waits for the collector at exit, before the wait ends', async () => {
  const address = `tcp/127.0.0.1:${await freePort()}`;
  const done = await runApp({ options: { address, closeTimeout: 3000 }, count: 100, name: 'down' });
  expect(done.code).toBe(0);
  const lines = done.stderr.split('\n').filter((line) => line !== '');
  expect(lines[0]).toMatch(
    new RegExp(
      `^logwire appender: waiting up to 3000 ms \\(closeTimeout\\) for collector ${address} \\(not connected: .*ECONNREFUSED.*\\) to take 100 records$`,
    ),
  );
  // Said first, then waited: the report comes only once the wait is over.
  expect(lines[1]).toMatch(/100 records not acknowledged within closeTimeout/);
}, 60_000);
