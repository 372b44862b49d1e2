/**
 * Bodies that span socket reads are copied into slabs the collector reuses once the writer is
 * done with them (shared/slab-cutter.ts). Several sessions send large bodies in small pieces,
 * interleaved, while every write lags a turn behind: far more than a slab's worth goes through,
 * so slabs are written again, and every record must still reach its file intact and once.
 */

import type { FileHandle } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { encodeMessage } from '../../../shared/protocol/encode.js';
import { message } from '../../../shared/protocol/message.js';
import { inProcessCollector } from '../../helpers/in-process-collector.js';
import type { RawClient } from '../../helpers/raw-client.js';
import { recordsBody } from '../../helpers/records.js';

const lab = inProcessCollector('lw-body-slabs-');

it('writes bodies spanning reads intact while their slabs are reused', async () => {
  // Each write waits a turn of the event loop: new bodies are cut while older ones are written.
  const writev = async (handle: FileHandle, chunks: Buffer[]): Promise<number> => {
    await new Promise((resolve) => setImmediate(resolve));
    return (await handle.writev(chunks)).bytesWritten;
  };
  const [port] = await lab.start({}, writev);

  const SESSIONS = 3;
  const BATCHES = 30;
  const PER_BATCH = 1500; // about 100 kB a body: 3 × 30 × 100 kB ≈ 9 MB, over two 4 MiB slabs
  const extra = `,"pad":"${'p'.repeat(20)}"`;
  const sessions: RawClient[] = [];
  for (let s = 0; s < SESSIONS; s++) {
    const c = await lab.client(port!);
    sessions.push(c);
    c.send(message('REGISTER', { version: 1, source: `slab${s}`, service: `svc${s}`, host: 'h', next: 1 }));
    await c.next((m) => m.command === 'READY');
  }
  for (let b = 0; b < BATCHES; b++) {
    for (let s = 0; s < SESSIONS; s++) {
      const seq = b * PER_BATCH + 1;
      const wire = Buffer.concat(
        encodeMessage(message('EVENTS', { seq, count: PER_BATCH }, recordsBody(seq, PER_BATCH, extra))),
      );
      // Small writes, so that each body arrives over many reads.
      for (let at = 0; at < wire.length; at += 7001) sessions[s]!.write(wire.subarray(at, at + 7001));
    }
  }
  const last = String(BATCHES * PER_BATCH);
  await Promise.all(sessions.map((c) => c.next((m) => m.command === 'ACK' && m.params.seq === last, 30_000)));
  for (let s = 0; s < SESSIONS; s++) {
    const text = await readFile(join(lab.dir, 'logs', `svc${s}.log`), 'utf8');
    expect(text).toBe(recordsBody(1, BATCHES * PER_BATCH, extra).toString());
  }
});
