/**
 * The real CLI against a state directory that goes wrong: a checkpoint journal cut in half or
 * deleted beside the outputs (the collector refuses to start, cuts nothing, and starts with
 * --accept-outputs keeping every record), and a state directory that refuses every write for
 * about five seconds mid-stream (ACKs wait, STATUS says degraded, the stream then completes
 * exactly once; a SIGTERM during the spell exits 1 and a restart completes it).
 *
 * The client is the test's own, straight from PROTOCOL.md §4, as in collector-kill9.test.ts.
 */

import { lstat, mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getInteger } from '../../shared/protocol/accessors.js';
import { message } from '../../shared/protocol/message.js';
import { type CollectorProcess, killAllCollectors, startCollector } from '../helpers/collector-process.js';
import { immutableUnsupported, setImmutable } from '../helpers/immutable.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventually, numbersIn, recordsBody } from '../helpers/records.js';

const PER_BATCH = 200;
const WINDOW = 20;

let base: string;
let dir: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'lw-state-faults-'));
});
afterEach(async () => {
  await killAllCollectors();
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const logs = (): string => join(dir, 'logs');
const stateDir = (): string => join(logs(), '.state');
const args = (port: number, ...more: string[]) => [
  '--listen',
  `tcp/127.0.0.1:${port}`,
  '--output',
  logs(),
  ...more,
];

/** What the client knows across connections: the highest ACK (or READY last) and its next number. */
interface Client {
  acked: number;
  next: number;
}

/**
 * Sends records up to `total` (numbered from 1, batches cut at fixed boundaries) until all are
 * acknowledged, reconnecting and resending whole every batch above READY's last, as §4 says.
 * `port()` is asked at each connection (the collector may be restarted under it).
 */
async function deliver(port: () => number, total: number, client: Client, waitMs = 30_000): Promise<void> {
  while (client.acked < total) {
    let raw: RawClient;
    try {
      raw = await RawClient.connect({ port: port() });
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50)); // restarting: retry
      continue;
    }
    raw.send(
      message('REGISTER', {
        version: 1,
        source: 'faults',
        service: 'svc',
        host: 'h',
        next: client.next,
        first: client.acked + 1,
      }),
    );
    try {
      const ready = await raw.next((m) => m.command === 'READY');
      client.acked = Math.max(client.acked, getInteger(ready.params, 'last'));
    } catch {
      raw.close();
      continue;
    }
    let sent = client.acked - (client.acked % PER_BATCH);
    while (client.acked < total && !raw.closed) {
      while (sent < total && sent - client.acked < WINDOW * PER_BATCH) {
        const count = Math.min(PER_BATCH, total - sent);
        raw.send(message('EVENTS', { seq: sent + 1, count }, recordsBody(sent + 1, count)));
        sent += count;
        client.next = Math.max(client.next, sent + 1);
      }
      try {
        await raw.next((m) => m.command === 'ACK', waitMs);
      } catch {
        break; // closed: reconnect
      }
      for (const m of raw.received.splice(0)) {
        if (m.command === 'ACK') client.acked = Math.max(client.acked, getInteger(m.params, 'seq'));
      }
    }
    raw.close();
  }
}

async function status(port: number): Promise<Record<string, string>> {
  const raw = await RawClient.connect({ port });
  try {
    raw.send(message('STATUS'));
    return (await raw.next((m) => m.command === 'OK')).params;
  } finally {
    raw.close();
  }
}

/** Every number in svc.log, checked to be 1…total, each once, in order. */
async function expectExactlyOnce(total: number): Promise<void> {
  const numbers = await numbersIn(join(logs(), 'svc.log'));
  expect(numbers.length).toBe(total);
  for (let i = 0; i < total; i++) {
    if (numbers[i] !== i + 1) expect.fail(`position ${i}: expected ${i + 1}, found ${numbers[i]}`);
  }
}

describe('a damaged checkpoint journal', () => {
  it('refuses to start rather than cut acknowledged records; --accept-outputs keeps them all', async () => {
    dir = await mkdtemp(join(base, 'journal-'));
    let collector: CollectorProcess = await startCollector(args(0), { cwd: dir, listeners: 1 });
    const port = collector.port('tcp');
    const client: Client = { acked: 0, next: 1 };
    await deliver(() => port, 20_000, client);
    expect((await collector.stop('SIGTERM')).code).toBe(0);

    const journal = join(stateDir(), 'checkpoint.journal');
    await truncate(journal, Math.floor((await stat(journal)).size / 2));
    await expect(startCollector(args(port), { cwd: dir, listeners: 1 })).rejects.toThrow(
      /exited \(1\) before listening:[\s\S]*recovery refused: [\s\S]*svc\.log[\s\S]*--accept-outputs/,
    );
    await expectExactlyOnce(20_000);

    await rm(journal);
    await expect(startCollector(args(port), { cwd: dir, listeners: 1 })).rejects.toThrow(
      /exited \(1\) before listening:[\s\S]*recovery refused: [\s\S]*--accept-outputs/,
    );
    await expectExactlyOnce(20_000);

    // The operator accepts the files as they are; the stream goes on, nothing lost or doubled.
    collector = await startCollector(args(port, '--accept-outputs'), { cwd: dir, listeners: 1 });
    await deliver(() => port, 21_000, client);
    expect((await collector.stop('SIGTERM')).code).toBe(0);
    await expectExactlyOnce(21_000);
    // Accepted once: the next start needs no flag.
    collector = await startCollector(args(port), { cwd: dir, listeners: 1 });
    expect((await collector.stop('SIGTERM')).code).toBe(0);
  }, 120_000);
});

describe('a state directory that refuses writes for a few seconds', () => {
  let skip: string | undefined;
  beforeAll(async () => {
    skip = await immutableUnsupported(base);
  });

  /** The state directory and every regular file in it, made immutable (or writable again). */
  async function freezeState(on: boolean): Promise<void> {
    const paths = [stateDir()];
    for (const name of await readdir(stateDir())) {
      const path = join(stateDir(), name);
      if ((await lstat(path)).isFile()) paths.push(path);
    }
    await setImmutable(paths, on);
  }

  afterEach(async () => {
    if (skip === undefined) await freezeState(false).catch(() => undefined);
  });

  it('holds the ACKs, says degraded, and completes the stream exactly once', async (ctx) => {
    if (skip !== undefined) ctx.skip(skip);
    dir = await mkdtemp(join(base, 'frozen-'));
    const collector = await startCollector(args(0), { cwd: dir, listeners: 1 });
    const port = collector.port('tcp');
    const client: Client = { acked: 0, next: 1 };
    await deliver(() => port, 6_000, client);

    // Frozen before the rest is sent: a stream that outran chattr would never meet the fault.
    await freezeState(true);
    const streaming = deliver(() => port, 30_000, client);
    await eventually(async () => expect((await status(port)).state).toBe('degraded'));
    const reply = await status(port);
    expect(reply.degraded_reason).toMatch(/^checkpoint: .*(EPERM|not permitted)/);
    const ackedWhenDegraded = client.acked;
    // The spell itself, as a remount or a failing disk makes it: the fault lasts ~5 s.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(client.acked).toBe(ackedWhenDegraded);
    await freezeState(false);

    await streaming;
    expect((await status(port)).state).not.toBe('degraded');
    expect((await collector.stop('SIGTERM')).code).toBe(0);
    await expectExactlyOnce(30_000);
    const err = collector.stderr();
    expect(err.match(/checkpoint cannot be saved/g)).toHaveLength(1);
    expect(err.match(/checkpoint saved again after \d+ ms/g)).toHaveLength(1);
  }, 120_000);

  it('exits 1 on SIGTERM during the spell, and a restart completes the stream exactly once', async (ctx) => {
    if (skip !== undefined) ctx.skip(skip);
    dir = await mkdtemp(join(base, 'frozen-stop-'));
    let collector = await startCollector(args(0), { cwd: dir, listeners: 1 });
    const port = collector.port('tcp');
    const client: Client = { acked: 0, next: 1 };
    await deliver(() => port, 6_000, client);

    await freezeState(true);
    const streaming = deliver(() => port, 30_000, client, 2_000);
    await eventually(async () => expect((await status(port)).state).toBe('degraded'));
    const exit = await collector.stop('SIGTERM');
    expect(exit.code).toBe(1);
    expect(collector.stderr()).toMatch(/stopped without saving the checkpoint/);
    await freezeState(false);

    collector = await startCollector(args(port), { cwd: dir, listeners: 1 });
    await streaming;
    expect((await collector.stop('SIGTERM')).code).toBe(0);
    await expectExactlyOnce(30_000);
  }, 120_000);
});
