/**
 * HTTP ingest at the real collector: 10,000 records POSTed in batches of 100 while the
 * collector is SIGKILLed and restarted twice, and every batch retried until answered 200, plus
 * retries of batches already answered (as when a 200 is lost). With an Idempotency-Key every
 * record is written exactly once; without one, at least once.
 */

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { type CollectorProcess, killAllCollectors, startCollector } from '../helpers/collector-process.js';

const TOTAL = 10_000;
const PER_POST = 100;
const KILL_AFTER = [30, 70];

let dir: string;
afterEach(async () => {
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

function post(port: number, body: string, key: string | undefined): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/ingest',
        headers: key === undefined ? {} : { 'Idempotency-Key': key },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

function batch(index: number): string {
  let body = '';
  for (let n = index * PER_POST + 1; n <= (index + 1) * PER_POST; n++) body += `${JSON.stringify({ n })}\n`;
  return body;
}

async function ingest(withKeys: boolean): Promise<Map<number, number>> {
  dir = await mkdtemp(join(tmpdir(), 'lw-http-e2e-'));
  const logs = join(dir, 'logs');
  const args = (port: number) => ['--listen', `http/127.0.0.1:${port}`, '--output', logs];
  let collector: CollectorProcess = await startCollector(args(0), { cwd: dir, listeners: 1 });
  const port = collector.port('http');
  const send = async (index: number): Promise<void> => {
    const key = withKeys ? `batch-${index}` : undefined;
    // Retried until answered 200: refused connections while the collector restarts, 503s.
    while ((await post(port, batch(index), key)) !== 200) await new Promise((r) => setTimeout(r, 20));
  };
  for (let index = 0; index < TOTAL / PER_POST; index++) {
    if (KILL_AFTER.includes(index)) {
      // The POST is under way when the collector dies: written or not, the retry decides.
      const racing = post(port, batch(index), withKeys ? `batch-${index}` : undefined);
      collector.child.kill('SIGKILL');
      await collector.exited;
      await racing;
      collector = await startCollector(args(port), { cwd: dir, listeners: 1 });
      // The batch before was answered 200; a client that lost that answer sends it again.
      await send(index - 1);
    }
    await send(index);
  }
  await collector.stop();
  const seen = new Map<number, number>();
  for (const line of readFileSync(join(logs, 'http.log'), 'utf8').trimEnd().split('\n')) {
    const { n } = JSON.parse(line) as { n: number };
    seen.set(n, (seen.get(n) ?? 0) + 1);
  }
  return seen;
}

it('writes every record exactly once with Idempotency-Key, across kills and retries', async () => {
  const seen = await ingest(true);
  expect(seen.size).toBe(TOTAL);
  expect([...seen].filter(([, times]) => times !== 1)).toEqual([]);
}, 60_000);

it('writes every record at least once without a key (retries of written batches repeat)', async () => {
  const seen = await ingest(false);
  expect(seen.size).toBe(TOTAL);
  expect([...seen.values()].every((times) => times >= 1)).toBe(true);
  // The resent batches (answered 200 before) are written twice.
  expect([...seen.values()].filter((times) => times > 1).length).toBeGreaterThanOrEqual(PER_POST);
}, 60_000);
