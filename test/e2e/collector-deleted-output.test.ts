/**
 * An output file deleted by hand in the middle of a 100,000-record stream: what it held is gone
 * with it, but every record acknowledged after the deletion is in the new file at its path,
 * once, and the collector says so (a warning, and `outputs_deleted` in STATUS).
 */

import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getInteger } from '../../shared/protocol/accessors.js';
import { message } from '../../shared/protocol/message.js';
import { type CollectorProcess, killAllCollectors, startCollector } from '../helpers/collector-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { numbersIn, recordsBody } from '../helpers/records.js';

const TOTAL = 100_000;
const PER_BATCH = 500;
const WINDOW = 8;

let dir: string;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

interface Deletion {
  /** Records acknowledged when the file was deleted. */
  readonly acked: number;
  /** Records sent when the file was deleted. */
  readonly sent: number;
}

/**
 * Streams TOTAL records in one session, WINDOW batches in flight, and deletes svc.log once half
 * are acknowledged: with nothing in flight when `quiet`, else mid-window.
 */
async function streamDeletingOnce(
  quiet: boolean,
): Promise<{ collector: CollectorProcess; deletion: Deletion }> {
  dir = await mkdtemp(join(tmpdir(), 'lw-deleted-'));
  const logs = join(dir, 'logs');
  const collector = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', logs], {
    cwd: dir,
    listeners: 1,
  });
  const client = await RawClient.connect({ port: collector.port('tcp') });
  clients.push(client);
  client.send(message('REGISTER', { version: 1, source: 'del', service: 'svc', host: 'h', next: 1 }));
  await client.next((m) => m.command === 'READY');
  let sent = 0;
  let acked = 0;
  let deletion: Deletion | undefined;
  while (acked < TOTAL) {
    const due = deletion === undefined && acked >= TOTAL / 2;
    const window = due && quiet ? 0 : WINDOW;
    while (sent < TOTAL && sent - acked < window * PER_BATCH) {
      client.send(message('EVENTS', { seq: sent + 1, count: PER_BATCH }, recordsBody(sent + 1, PER_BATCH)));
      sent += PER_BATCH;
    }
    if (due && (!quiet || acked === sent)) {
      await unlink(join(logs, 'svc.log'));
      deletion = { acked, sent };
      continue;
    }
    await client.next((m) => m.command === 'ACK' && getInteger(m.params, 'seq') > acked);
    for (const m of client.received.splice(0))
      if (m.command === 'ACK') acked = Math.max(acked, getInteger(m.params, 'seq'));
  }
  expect(deletion).toBeDefined();
  return { collector, deletion: deletion! };
}

async function status(collector: CollectorProcess): Promise<Record<string, string>> {
  const c = await RawClient.connect({ port: collector.port('tcp') });
  clients.push(c);
  c.send(message('STATUS'));
  const reply = await c.next((m) => m.command === 'OK' && m.params.command === 'STATUS');
  return { ...reply.params };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('an output file deleted mid-stream', () => {
  it('holds every record acknowledged after the deletion in the new file, once', async () => {
    const { collector, deletion } = await streamDeletingOnce(true);
    expect((await status(collector)).outputs_deleted).toBe('1');
    const warnings = collector.stderr().match(/WARN .*output file deleted while open.*svc\.log/g) ?? [];
    expect(warnings).toHaveLength(1);
    // Killed, then started again: the checkpoint knows the new file, so recovery leaves it whole.
    expect((await collector.stop('SIGKILL')).signal).toBe('SIGKILL');
    const again = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', join(dir, 'logs')], {
      cwd: dir,
      listeners: 1,
    });
    expect((await again.stop()).code).toBe(0);
    expect(again.stderr()).not.toMatch(/cut unacknowledged/);
    // Nothing was in flight: the new file holds exactly what came after the deletion.
    expect(await numbersIn(join(dir, 'logs', 'svc.log'))).toEqual(range(deletion.acked + 1, TOTAL));
  }, 120_000);

  it('with batches in flight, loses none sent after the deletion and writes none twice', async () => {
    const { collector, deletion } = await streamDeletingOnce(false);
    expect((await status(collector)).outputs_deleted).toBe('1');
    expect((await collector.stop()).code).toBe(0);
    const numbers = await numbersIn(join(dir, 'logs', 'svc.log'));
    // The batches in flight at the deletion may have gone into the deleted file before it went;
    // from the first record the new file holds, every record follows, once and in order.
    const first = numbers[0] ?? TOTAL + 1;
    expect(first).toBeGreaterThan(deletion.acked);
    expect(first).toBeLessThanOrEqual(deletion.sent + 1);
    expect(numbers).toEqual(range(first, TOTAL));
  }, 120_000);
});
