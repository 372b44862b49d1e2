/**
 * Outputs and routing with the real CLI: warnings routed to their own file across kill -9s,
 * fan-out to two file outputs, and an optional output that fails without holding the ACKs.
 * The client is the test's own, from PROTOCOL.md §4: it keeps every batch until acknowledged
 * (what an appender's spool does) and resends whole every batch above READY's last.
 */

import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { getInteger } from '../../shared/protocol/accessors.js';
import { message } from '../../shared/protocol/message.js';
import { type CollectorProcess, killAllCollectors, startCollector } from '../helpers/collector-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventually, numbersIn } from '../helpers/records.js';

const PER_BATCH = 500;
const WINDOW = 20;

/** Record n is a warning (40) or an error (50) every 7th and 11th number; else info. */
function levelOf(n: number): number {
  return n % 11 === 0 ? 50 : n % 7 === 0 ? 40 : 30;
}

function body(seq: number, count: number): Buffer {
  let text = '';
  for (let n = seq; n < seq + count; n++)
    text += `{"level":${levelOf(n)},"time":1,"n":${n},"msg":"r ${n}"}\n`;
  return Buffer.from(text);
}

const dirs: string[] = [];
let immutable: string | undefined;
afterEach(async () => {
  if (immutable !== undefined) execFileSync('chattr', ['-i', immutable]);
  immutable = undefined;
  await killAllCollectors();
});
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function setUp(config: string): Promise<{ dir: string; args: (port: number) => string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'lw-routing-'));
  dirs.push(dir);
  await writeFile(join(dir, 'collector.toml'), `output_dir = "logs"\n${config}`);
  return {
    dir,
    args: (port) => ['--listen', `tcp/127.0.0.1:${port}`, '--config', join(dir, 'collector.toml')],
  };
}

/**
 * Ships records 1..total as source `src`, service `svc`, until all are acknowledged; calls
 * `onAck(acked)` after each ACK, which may kill and restart the collector (returns the new one).
 */
async function ship(port: number, total: number, onAck: (acked: number) => Promise<void>): Promise<void> {
  let acked = 0;
  let nextNew = 1;
  while (acked < total) {
    let client: RawClient;
    try {
      client = await RawClient.connect({ port });
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50)); // restarting: retry
      continue;
    }
    client.send(
      message('REGISTER', {
        version: 1,
        source: 'src',
        service: 'svc',
        host: 'h',
        next: nextNew,
        first: acked + 1,
      }),
    );
    let ready: Awaited<ReturnType<RawClient['next']>>;
    try {
      ready = await client.next((m) => m.command === 'READY');
    } catch {
      client.close();
      continue;
    }
    acked = Math.max(acked, getInteger(ready.params, 'last'));
    let sent = acked - (acked % PER_BATCH);
    while (acked < total && !client.closed) {
      while (sent < total && sent - acked < WINDOW * PER_BATCH) {
        const count = Math.min(PER_BATCH, total - sent);
        client.send(message('EVENTS', { seq: sent + 1, count }, body(sent + 1, count)));
        sent += count;
        nextNew = Math.max(nextNew, sent + 1);
      }
      try {
        await client.next((m) => m.command === 'ACK', 10_000);
      } catch {
        break;
      }
      for (const m of client.received.splice(0))
        if (m.command === 'ACK') acked = Math.max(acked, getInteger(m.params, 'seq'));
      await onAck(acked);
    }
    client.close();
  }
}

function range(total: number, keep: (n: number) => boolean): number[] {
  return Array.from({ length: total }, (_, i) => i + 1).filter(keep);
}

it('routes warnings to their own file, each record once, across kill -9s', async () => {
  const TOTAL = 60_000;
  const { dir, args } = await setUp(`
[[output]]
name = "files"
path = "{service}.log"
[[output]]
name = "warnings"
path = "{service}.warn.log"
[[route]]
match = { level = ">= warn" }
to = ["warnings"]
[[route]]
to = ["files"]
`);
  let collector: CollectorProcess = await startCollector(args(0), { cwd: dir, listeners: 1 });
  const port = collector.port('tcp');
  const kills = [15_000, 40_000];
  await ship(port, TOTAL, async (acked) => {
    if (kills.length > 0 && acked >= kills[0]!) {
      kills.shift();
      collector.child.kill('SIGKILL');
      await collector.exited;
      collector = await startCollector(args(port), { cwd: dir, listeners: 1 });
    }
  });
  expect(kills).toEqual([]);
  expect((await collector.stop('SIGTERM')).code).toBe(0);
  expect(await numbersIn(join(dir, 'logs', 'svc.warn.log'))).toEqual(range(TOTAL, (n) => levelOf(n) >= 40));
  expect(await numbersIn(join(dir, 'logs', 'svc.log'))).toEqual(range(TOTAL, (n) => levelOf(n) < 40));
}, 120_000);

it('fans out to two file outputs, both complete and identical', async () => {
  const TOTAL = 20_000;
  const { dir, args } = await setUp(`
[[output]]
name = "main"
path = "{service}.log"
[[output]]
name = "copy"
path = "copy/{service}.log"
`);
  const collector = await startCollector(args(0), { cwd: dir, listeners: 1 });
  await ship(collector.port('tcp'), TOTAL, async () => undefined);
  expect((await collector.stop('SIGTERM')).code).toBe(0);
  const main = await readFile(join(dir, 'logs', 'svc.log'));
  expect(await numbersIn(join(dir, 'logs', 'svc.log'))).toEqual(range(TOTAL, () => true));
  expect((await readFile(join(dir, 'logs', 'copy', 'svc.log'))).equals(main)).toBe(true);
}, 60_000);

/** True when this machine lets the test make a directory immutable (root, and a file system with the flag). */
function canChattr(dir: string): boolean {
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

it('an optional output that fails holds neither the ACKs nor the required output, then catches up', async (ctx) => {
  const TOTAL = 10_000;
  const { dir, args } = await setUp(`
[[output]]
name = "files"
path = "{service}.log"
[[output]]
name = "extra"
path = "extra/{service}.log"
required = false
`);
  const extra = join(dir, 'logs', 'extra');
  await mkdir(extra, { recursive: true });
  if (!canChattr(extra)) ctx.skip();
  execFileSync('chattr', ['+i', extra]);
  immutable = extra;
  const collector = await startCollector(args(0), { cwd: dir, listeners: 1 });
  await ship(collector.port('tcp'), TOTAL, async () => undefined);
  // Every record acknowledged and in the required output while the optional one cannot write.
  expect(await numbersIn(join(dir, 'logs', 'svc.log'))).toEqual(range(TOTAL, () => true));
  expect(collector.stderr()).toMatch(/optional output extra failed, its records wait in its backlog/);
  expect(await numbersIn(join(extra, 'svc.log'))).toEqual([]);
  execFileSync('chattr', ['-i', extra]);
  immutable = undefined;
  // Its backlog is retried without new input, oldest first, each record once.
  await eventually(
    async () => expect(await numbersIn(join(extra, 'svc.log'))).toEqual(range(TOTAL, () => true)),
    15_000,
  );
  expect((await collector.stop('SIGTERM')).code).toBe(0);
}, 60_000);
