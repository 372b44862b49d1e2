/**
 * Issue #5: 200,000 numbered records; the collector is killed with SIGKILL three times
 * mid-stream and restarted; every number appears exactly once in the output.
 *
 * The client here is the test's own, written straight from PROTOCOL.md §4 (keep every batch
 * until acknowledged, REGISTER with next/first, resend whole every batch above READY's last),
 * so this checks the collector's side alone.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { getInteger } from '../../shared/protocol/accessors.js';
import { message } from '../../shared/protocol/message.js';
import { type CollectorProcess, killAllCollectors, startCollector } from '../helpers/collector-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { numbersIn, recordsBody } from '../helpers/records.js';

const TOTAL = 200_000;
const PER_BATCH = 500;
const WINDOW = 40;
const KILL_AT = [30_000, 90_000, 150_000];

let dir: string;
afterAll(async () => {
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

it('writes every record exactly once across three kill -9s', async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-kill9-'));
  const args = (port: number) => ['--listen', `tcp/127.0.0.1:${port}`, '--output', join(dir, 'logs')];
  let collector: CollectorProcess = await startCollector(args(0), { cwd: dir, listeners: 1 });
  const port = collector.port('tcp');

  let acked = 0;
  let nextNew = 1;
  const kills = [...KILL_AT];
  let restarts = 0;

  while (acked < TOTAL) {
    let client: RawClient;
    try {
      client = await RawClient.connect({ port });
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50)); // collector restarting: retry
      continue;
    }
    client.send(
      message('REGISTER', {
        version: 1,
        source: 'kill9',
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
    // Resend whole every batch that ends above last (batches are cut at fixed boundaries).
    let sent = acked - (acked % PER_BATCH);
    const onAck = () => {
      for (const m of client.received.splice(0)) {
        if (m.command === 'ACK') acked = Math.max(acked, getInteger(m.params, 'seq'));
      }
    };
    while (acked < TOTAL && !client.closed) {
      while (sent < TOTAL && sent - acked < WINDOW * PER_BATCH) {
        client.send(message('EVENTS', { seq: sent + 1, count: PER_BATCH }, recordsBody(sent + 1, PER_BATCH)));
        sent += PER_BATCH;
        nextNew = Math.max(nextNew, sent + 1);
      }
      try {
        await client.next((m) => m.command === 'ACK', 10_000);
      } catch {
        break; // closed: reconnect
      }
      onAck();
      if (kills.length > 0 && acked >= kills[0]!) {
        kills.shift();
        collector.child.kill('SIGKILL');
        await collector.exited;
        collector = await startCollector(args(port), { cwd: dir, listeners: 1 });
        restarts += 1;
      }
    }
    client.close();
  }

  expect(restarts).toBe(3);
  const exit = await collector.stop('SIGTERM');
  expect(exit.code).toBe(0);
  const numbers = await numbersIn(join(dir, 'logs', 'svc.log'));
  expect(numbers.length).toBe(TOTAL);
  for (let i = 0; i < TOTAL; i++) {
    if (numbers[i] !== i + 1) expect.fail(`position ${i}: expected ${i + 1}, found ${numbers[i]}`);
  }
}, 180_000);
