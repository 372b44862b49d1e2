/** `logwire collector --jetstream` / `--from-jetstream` refuse to start, naming the URL or stream. */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LOGWIRE_BIN } from '../helpers/collector-process.js';
import { freePort, NatsCluster } from '../helpers/nats-cluster.js';

let dir: string;
let cluster: NatsCluster;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-js-start-'));
  cluster = await NatsCluster.start(join(dir, 'nats'), 1);
});
afterAll(async () => {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [LOGWIRE_BIN, 'collector', '--listen', 'tcp/127.0.0.1:0', ...args], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

it('exits 2 naming the URL when no NATS server answers', async () => {
  const url = `nats://127.0.0.1:${await freePort()}`;
  const { code, stderr } = await run(['--output', join(dir, 'a'), '--jetstream', url]);
  expect(code).toBe(2);
  expect(stderr).toContain(`cannot connect to NATS at ${url}`);
});

it('exits 1 naming the stream when the writing tier finds none', async () => {
  const { code, stderr } = await run(['--output', join(dir, 'b'), '--from-jetstream', cluster.urls[0]!]);
  expect(code).toBe(1);
  expect(stderr).toContain(`stream LOGWIRE at ${cluster.urls[0]}: not found`);
});

it('exits 1 when the cluster cannot hold the replicas asked for', async () => {
  const { code, stderr } = await run(['--output', join(dir, 'c'), '--jetstream', cluster.urls[0]!]);
  expect(code).toBe(1);
  expect(stderr).toMatch(/cannot create stream LOGWIRE \(replicas 3\)/);
});
