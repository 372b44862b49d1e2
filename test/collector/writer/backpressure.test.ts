/**
 * Backpressure (issue #5): when outputs cannot keep up, sessions get PAUSE instead of the
 * collector growing its memory, a session registering meanwhile hears PAUSE right after READY
 * (§4.6), ndjson links are not read, and UNPAUSE comes once drained. The writes are stalled
 * through the output set's writev seam, in-process.
 */

import type { FileHandle } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { message } from '../../../shared/protocol/message.js';
import { inProcessCollector } from '../../helpers/in-process-collector.js';
import { eventsMessage } from '../../helpers/records.js';

const lab = inProcessCollector('lw-backpressure-');

it('pauses sessions while the output stalls, and unpauses once drained', async () => {
  let release!: () => void;
  const stalled = new Promise<void>((resolve) => {
    release = resolve;
  });
  const writev = async (handle: FileHandle, chunks: Buffer[]): Promise<number> => {
    await stalled;
    return (await handle.writev(chunks)).bytesWritten;
  };
  const [port] = await lab.start({ pauseAbove: 50_000 }, writev);
  const collector = lab.collector;

  const c = await lab.client(port!);
  c.send(message('REGISTER', { version: 1, source: 'bp', service: 'svc', host: 'h', next: 1 }));
  await c.next((m) => m.command === 'READY');
  // About 75 kB: over pause_above (50 kB), under twice it (where no link would be read at all).
  for (let i = 0; i < 10; i++) c.send(eventsMessage(i * 100 + 1, 100));
  await c.next((m) => m.command === 'PAUSE');
  expect(c.received.some((m) => m.command === 'ACK')).toBe(false);
  expect(collector.status().state).toBe('paused');

  const late = await lab.client(port!);
  late.send(message('REGISTER', { version: 1, source: 'bp2', service: 'other', host: 'h', next: 1 }));
  await late.next((m) => m.command === 'PAUSE');
  expect(late.received.map((m) => m.command).slice(0, 2)).toEqual(['READY', 'PAUSE']);

  release();
  await c.next((m) => m.command === 'UNPAUSE');
  await c.next((m) => m.command === 'ACK' && m.params.seq === '1000');
  expect(collector.status().state).toBe('running');
});
