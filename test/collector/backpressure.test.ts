/**
 * Backpressure (issue #5): when outputs cannot keep up, sessions get PAUSE instead of the
 * collector growing its memory, a session registering meanwhile hears PAUSE right after READY
 * (§4.6), ndjson links are not read, and UNPAUSE comes once drained. The writes are stalled
 * through the output set's writev seam, in-process.
 */

import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startCollector } from '../../collector/collector.js';
import { loadConfig } from '../../collector/config.js';
import type { Collector, CollectorLog } from '../../collector/config-types.js';
import { message } from '../../shared/protocol/message.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventsMessage } from '../helpers/records.js';

const quiet: CollectorLog = { info() {}, warn() {}, error() {}, trace() {} };
let dir: string;
let collector: Collector | undefined;
const clients: RawClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await collector?.stop('test');
  collector = undefined;
  await rm(dir, { recursive: true, force: true });
});

it('pauses sessions while the output stalls, and unpauses once drained', async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-backpressure-'));
  let release!: () => void;
  const stalled = new Promise<void>((resolve) => {
    release = resolve;
  });
  const writev = async (handle: FileHandle, chunks: Buffer[]): Promise<number> => {
    await stalled;
    return (await handle.writev(chunks)).bytesWritten;
  };
  const config = await loadConfig({ flags: { listen: ['tcp/127.0.0.1:0'], output: join(dir, 'logs') } }, dir);
  collector = await startCollector({ ...config, pauseAbove: 50_000 }, { log: quiet, writev });
  const port = Number(collector.addresses[0]!.split(':').pop());

  const c = await RawClient.connect({ port });
  clients.push(c);
  c.send(message('REGISTER', { version: 1, source: 'bp', service: 'svc', host: 'h', next: 1 }));
  await c.next((m) => m.command === 'READY');
  // About 75 kB: over pause_above (50 kB), under twice it (where no link would be read at all).
  for (let i = 0; i < 10; i++) c.send(eventsMessage(i * 100 + 1, 100));
  await c.next((m) => m.command === 'PAUSE');
  expect(c.received.some((m) => m.command === 'ACK')).toBe(false);
  expect(collector.status().state).toBe('paused');

  const late = await RawClient.connect({ port });
  clients.push(late);
  late.send(message('REGISTER', { version: 1, source: 'bp2', service: 'other', host: 'h', next: 1 }));
  await late.next((m) => m.command === 'PAUSE');
  expect(late.received.map((m) => m.command).slice(0, 2)).toEqual(['READY', 'PAUSE']);

  release();
  await c.next((m) => m.command === 'UNPAUSE');
  await c.next((m) => m.command === 'ACK' && m.params.seq === '1000');
  expect(collector.status().state).toBe('running');
});
