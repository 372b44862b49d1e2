import { once } from 'node:events';
import { mkdtemp, rm, symlink, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Appender, createAppender } from '../appender/appender.js';
import { FakeCollector, until } from './helpers/fake-collector.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'zz-review-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
function closeWithin(stream: Appender, ms: number): Promise<'closed' | 'timeout'> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve('timeout'), ms);
    stream.once('close', () => {
      clearTimeout(t);
      resolve('closed');
    });
    stream.end();
  });
}

describe('review repros', () => {
  it('block overflow: end() with collector down hangs (no close)', async () => {
    const fake = await FakeCollector.start();
    await fake.stop();
    const stderr: string[] = [];
    const stream = await createAppender(
      {
        address: fake.address,
        service: 'blk',
        backoff: [20],
        closeTimeout: 300,
        queue: { maxBytes: 4096, overflow: 'block' },
        batch: { maxBytes: 1024, maxDelay: 0 },
      },
      { stderr: (l) => stderr.push(l) },
    );
    for (let i = 0; i < 2000; i++) stream.write(`{"i":${i}}\n`);
    const r = await closeWithin(stream, 3000);
    console.log('BLOCK result', r, stderr, stream.counters);
    cleanup.push(async () => stream.destroy());
    expect(r).toBe('closed');
  });

  it('spool write failure (ENOSPC): order and loss', async () => {
    const fake = await FakeCollector.start();
    cleanup.push(() => fake.stop());
    const dir = await tempDir();
    const stderr: string[] = [];
    const stream = await createAppender(
      {
        address: fake.address,
        service: 'sp',
        backoff: [20],
        closeTimeout: 2000,
        spool: { dir, maxBytes: 4096 },
        queue: { maxBytes: 1024 * 1024 },
        batch: { maxBytes: 1024, maxDelay: 0 },
      },
      { stderr: (l) => stderr.push(l) },
    );
    await until(() => stream.state === 'connected', [stream], 'connected');
    await symlink('/dev/full', join(dir, 'seg-0000000000000001.log'));
    const N = 300;
    for (let i = 0; i < N; i++) stream.write(`{"i":${i},"pad":"${'x'.repeat(80)}"}\n`);
    await new Promise((r) => setTimeout(r, 1500));
    const counters = stream.counters;
    const r = await closeWithin(stream, 5000);
    const lines = fake.lines();
    const got = new Set(lines.map((l) => (JSON.parse(l) as { i: number }).i));
    const missing = [];
    for (let i = 0; i < N; i++) if (!got.has(i)) missing.push(i);
    const recv = fake.received.get([...fake.received.keys()][0]!) ?? [];
    console.log('SPOOL', r, { written: lines.length, missing: missing.length, gaps: fake.gaps, firstRecv: recv.slice(0, 60) }, counters, stream.counters, stderr);
  });

  it('spool broken + collector down: close reports in-memory records as in the spool', async () => {
    const fake = await FakeCollector.start();
    await fake.stop();
    const dir = await tempDir();
    const stderr: string[] = [];
    const stream = await createAppender(
      {
        address: fake.address,
        service: 'sp2',
        backoff: [20],
        closeTimeout: 500,
        spool: { dir, maxBytes: 1024 * 1024 },
        batch: { maxBytes: 1024, maxDelay: 0 },
      },
      { stderr: (l) => stderr.push(l) },
    );
    await symlink('/dev/full', join(dir, 'seg-0000000000000001.log'));
    for (let i = 0; i < 50; i++) stream.write(`{"i":${i}}\n`);
    await new Promise((r) => setTimeout(r, 300));
    const r = await closeWithin(stream, 5000);
    console.log('SPOOL2', r, stream.counters, stderr, await readdir(dir));
  });

  it('spool: batch numbered before READY larger than max_body drops whole batch of small records', async () => {
    const fake = await FakeCollector.start({ maxBody: 2048 });
    await fake.stop();
    const dir = await tempDir();
    const stderr: string[] = [];
    const stream = await createAppender(
      {
        address: fake.address,
        service: 'mb',
        backoff: [20],
        closeTimeout: 2000,
        spool: { dir },
        batch: { maxBytes: 8192, maxDelay: 5 },
      },
      { stderr: (l) => stderr.push(l) },
    );
    for (let i = 0; i < 200; i++) stream.write(`{"i":${i},"pad":"${'x'.repeat(60)}"}\n`);
    await new Promise((r) => setTimeout(r, 100));
    await fake.listen();
    cleanup.push(() => fake.stop());
    await until(() => stream.counters.queued === 0, [stream, fake], 'settled', 5000).catch(() => {});
    const r = await closeWithin(stream, 5000);
    console.log('MAXBODY', r, { written: fake.lines().length }, stream.counters, stderr);
  });
});
