/**
 * The writer's ticks: a backlog is committed in parts of at most 1 MiB of bodies (a larger
 * batch alone), in order, each acknowledged once saved; and the shape check's fast path
 * writes and rejects exactly what the line-by-line check does.
 */

import { writevSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Checkpoint } from '../../../collector/checkpoint/checkpoint.js';
import { createCounters } from '../../../collector/counters.js';
import { FileOutput } from '../../../collector/outputs/file-output.js';
import { OutputSet } from '../../../collector/outputs/output-set.js';
import { PathTemplate } from '../../../collector/outputs/path-template.js';
import { REJECTED_PATH } from '../../../collector/outputs/rejected-file.js';
import { OptionalLane } from '../../../collector/writer/optional-lane.js';
import { OutputProgress } from '../../../collector/writer/output-progress.js';
import { RouteTable } from '../../../collector/writer/route-rules.js';
import { type OutputEntry, Router } from '../../../collector/writer/router.js';
import type { ServiceTick } from '../../../collector/writer/tick-tally.js';
import type { BatchJob } from '../../../collector/writer/write-job.js';
import { Writer } from '../../../collector/writer/writer.js';
import { fileWriter } from '../../helpers/file-writer.js';

let dir: string;
let checkpoint: Checkpoint;
let outputs: OutputSet;
let writes: number[];
/** Writes still to fail with ENOSPC (a full disk), then writes succeed again. */
let failWrites: number;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-writer-'));
  checkpoint = await Checkpoint.open(join(dir, 'state'), {});
  writes = [];
  failWrites = 0;
  const writev = async (handle: FileHandle, chunks: Buffer[]): Promise<number> => {
    if (failWrites > 0) {
      failWrites -= 1;
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    }
    writes.push(chunks.reduce((sum, c) => sum + c.length, 0));
    return (await handle.writev(chunks)).bytesWritten;
  };
  outputs = await OutputSet.open({ dir: join(dir, 'out'), fileIdleClose: 0, writev });
});

afterEach(async () => {
  await outputs.close();
  await checkpoint.close();
  await rm(dir, { recursive: true, force: true });
});

function writer(validate: 'shape' | 'full' = 'shape') {
  const counters = createCounters();
  const errors: unknown[] = [];
  const w = fileWriter(
    { template: PathTemplate.parse('{service}.log'), format: 'json', validate, durability: 'write' },
    { outputs, checkpoint, counters, onError: (e) => errors.push(e) },
  );
  return { w, counters, errors };
}

function batch(seq: number, lines: string[], acks: number[]): BatchJob {
  return {
    route: { source: 'src', service: 'svc', host: 'h' },
    seq,
    count: lines.length,
    body: Buffer.from(lines.map((l) => `${l}\n`).join('')),
    mode: 'session',
    done: (mark) => acks.push(mark),
    fail: (error) => {
      throw error;
    },
  };
}

/** `n` records of about `size` bytes each, numbered from `from`. */
function records(from: number, n: number, size: number): string[] {
  return Array.from({ length: n }, (_, i) => `{"n":${from + i},"pad":"${'x'.repeat(size - 20)}"}`);
}

it('commits a backlog in ticks of at most 1 MiB, in order, acknowledging each once saved', async () => {
  const { w, counters } = writer();
  const acks: number[] = [];
  // Five batches of ~400 kB: ticks of two, two and one (a third would pass 1 MiB).
  const all: string[] = [];
  for (let b = 0; b < 5; b++) {
    const lines = records(b * 1000 + 1, 1000, 400);
    all.push(...lines);
    w.submit(batch(b * 1000 + 1, lines, acks));
  }
  await w.idle();
  expect(writes).toHaveLength(3);
  expect(writes.every((bytes) => bytes <= 1024 * 1024)).toBe(true);
  expect(acks).toEqual([1000, 2000, 3000, 4000, 5000]);
  expect(counters.written).toBe(5000);
  expect(await readFile(join(dir, 'out', 'svc.log'), 'utf8')).toBe(all.map((l) => `${l}\n`).join(''));
});

/**
 * A writer whose writes are made in place, as the collector makes a tick's (a tick takes no turn
 * of its own), counting the bodies each write takes. A machine too busy to turn the loop a few
 * times in 2 ms does not end its gathering early.
 */
async function gatheringWriter(
  name: string,
): Promise<{ w: Writer; writes: number[]; close: () => Promise<void> }> {
  const writes: number[] = [];
  const inPlace = await OutputSet.open({
    dir: join(dir, name),
    fileIdleClose: 0,
    writev: async (handle, chunks) => {
      writes.push(chunks.length);
      return writevSync(handle.fd, chunks);
    },
  });
  const w = fileWriter(
    { template: PathTemplate.parse('{service}.log'), format: 'json', validate: 'shape', durability: 'write' },
    {
      outputs: inPlace,
      checkpoint,
      counters: createCounters(),
      onError: (e) => expect.fail(String(e)),
      gatherMs: 60_000,
    },
  );
  return { w, writes, close: () => inPlace.close() };
}

it('gathers batches that arrive turn after turn into one tick, and writes a lone batch after one turn', async () => {
  const { w, writes, close } = await gatheringWriter('in-place');
  const acks: number[] = [];
  // A stream: one small batch per turn of the event loop, as socket reads bring them.
  for (let b = 0; b < 6; b++) {
    w.submit(batch(b * 10 + 1, records(b * 10 + 1, 10, 100), acks));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await w.idle();
  // One tick, one write of the six bodies; without gathering, a tick goes while the stream
  // still arrives, and another for what came meanwhile.
  expect(writes).toEqual([6]);
  expect(acks.at(-1)).toBe(60);
  writes.length = 0;
  w.submit(batch(61, records(61, 1, 100), acks));
  await w.idle();
  expect(writes).toHaveLength(1);
  expect(acks.at(-1)).toBe(61);
  await close();
});

it('keeps gathering while a batch spanning several reads is still arriving', async () => {
  const { w, writes, close } = await gatheringWriter('spanning');
  const acks: number[] = [];
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  w.submit(batch(1, records(1, 10, 100), acks));
  // The next batch comes in four reads, one per turn: no job is submitted until its last.
  for (let read = 0; read < 3; read++) {
    await turn();
    w.noteBytesRead(16 * 1024);
  }
  await turn();
  w.submit(batch(11, records(11, 10, 100), acks));
  await w.idle();
  // Without the reads counted, the first tick goes after one quiet turn, alone.
  expect(writes).toEqual([2]);
  expect(acks).toEqual([10, 20]);
  await close();
});

it('writes a batch over the tick size alone', async () => {
  const { w } = writer();
  const acks: number[] = [];
  w.submit(batch(1, records(1, 10, 100), acks));
  w.submit(batch(11, records(11, 3000, 400), acks));
  w.submit(batch(3011, records(3011, 10, 100), acks));
  await w.idle();
  expect(writes.map((bytes) => bytes > 1024 * 1024)).toEqual([false, true, false]);
  expect(acks).toEqual([10, 3010, 3020]);
});

it('writes and rejects with the fast shape check exactly what the full line-by-line path would', async () => {
  const { w, counters } = writer();
  const acks: number[] = [];
  w.submit(batch(1, ['{"a":1}', '', '[2]', '{"b":3}', '{"c":4}'], acks));
  // Invalid UTF-8 anywhere in the body: the line-by-line check names the line.
  const bad = batch(6, ['{"d":5}', 'x'], acks);
  const body = Buffer.concat([Buffer.from('{"d":5}\n{"e":'), Buffer.from([0xff]), Buffer.from('}\n')]);
  w.submit({ ...bad, body });
  await w.idle();
  expect(await readFile(join(dir, 'out', 'svc.log'), 'utf8')).toBe('{"a":1}\n{"b":3}\n{"c":4}\n{"d":5}\n');
  const rejected = (await readFile(join(dir, 'out', '_rejected.log'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line).reason);
  expect(rejected).toEqual(['empty_line', 'not_an_object', 'invalid_utf8']);
  expect(counters).toMatchObject({ written: 4, rejected: 3 });
  expect(acks).toEqual([5, 7]);
});

it('gives each body back once, only after its tick is written, and after a failed tick too', async () => {
  const gate: Array<() => void> = [];
  let failNext = false;
  const gated = await OutputSet.open({
    dir: join(dir, 'gated'),
    fileIdleClose: 0,
    writev: async (handle, chunks) => {
      await new Promise<void>((resolve) => gate.push(resolve));
      if (failNext) {
        failNext = false;
        throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
      }
      return (await handle.writev(chunks)).bytesWritten;
    },
  });
  const released: Buffer[] = [];
  const w = fileWriter(
    { template: PathTemplate.parse('{service}.log'), format: 'json', validate: 'shape', durability: 'write' },
    {
      outputs: gated,
      checkpoint,
      counters: createCounters(),
      onError: () => {},
      release: (body) => released.push(body),
    },
  );
  try {
    const acks: number[] = [];
    const first = batch(1, records(1, 3, 50), acks);
    w.submit(first);
    await expect.poll(() => gate.length).toBe(1);
    expect(released).toEqual([]); // the write is in progress: its bytes are still read
    gate.shift()!();
    await w.idle();
    expect(released).toEqual([first.body]);

    failNext = true;
    const failed = { ...batch(4, records(4, 2, 50), acks), fail: () => {} };
    w.submit(failed);
    await expect.poll(() => gate.length).toBe(1);
    expect(released).toHaveLength(1);
    gate.shift()!();
    await w.idle();
    expect(released).toEqual([first.body, failed.body]);
  } finally {
    for (const open of gate) open();
    await gated.close();
  }
});

it('counts written, rejected, retransmitted and gaps only once their tick is written and saved', async () => {
  const { w, counters } = writer();
  const acks: number[] = [];
  const failures: unknown[] = [];
  const resendable = (seq: number, lines: string[]): BatchJob => ({
    ...batch(seq, lines, acks),
    fail: (error) => failures.push(error),
  });
  const tally = () => {
    const { written, rejected, retransmitted, gaps } = counters;
    return { written, rejected, retransmitted, gaps };
  };
  // A full disk: the tick fails, nothing is acknowledged and nothing counted.
  failWrites = 1;
  w.submit(resendable(3, [...records(3, 99, 50), '[1]']));
  await w.idle();
  expect(failures).toHaveLength(1);
  expect(acks).toEqual([]);
  expect(tally()).toEqual({ written: 0, rejected: 0, retransmitted: 0, gaps: 0 });
  // The client resends it, and then some it had sent before: each record counted once.
  w.submit(resendable(3, [...records(3, 99, 50), '[1]']));
  w.submit(resendable(50, records(50, 60, 50)));
  await w.idle();
  expect(acks).toEqual([102, 109]);
  expect(tally()).toEqual({ written: 99 + 7, rejected: 1, retransmitted: 53, gaps: 2 });
});

it('counts per service what the required outputs wrote, not an optional output beside them', async () => {
  const copies = await OutputSet.open({ dir: join(dir, 'out'), fileIdleClose: 0 });
  try {
    const settings = { format: 'json', validate: 'shape', durability: 'write' } as const;
    const required: OutputEntry = {
      name: 'files',
      output: new FileOutput(outputs, checkpoint, settings),
      template: PathTemplate.parse('{service}.log'),
      rejectedPath: REJECTED_PATH,
      progress: new OutputProgress('files', true),
    };
    const progress = new OutputProgress('copy', false);
    const optional: OutputEntry = {
      name: 'copy',
      output: new FileOutput(copies, checkpoint, settings, '_rejected.copy.log'),
      template: PathTemplate.parse('{service}.copy.log'),
      rejectedPath: '_rejected.copy.log',
      progress,
      lane: new OptionalLane(progress, 1 << 20),
    };
    const onError = (error: unknown): void => {
      throw error;
    };
    const counters = createCounters();
    const services = new Map<string, Pick<ServiceTick, 'written' | 'rejected' | 'records'>>();
    const w = new Writer({
      router: new Router([required, optional], new RouteTable([], ['files', 'copy']), onError),
      checkpoint,
      counters,
      onError,
      onCommitted: (tick) => {
        for (const [service, counts] of tick.services) {
          const seen = services.get(service) ?? { written: 0, rejected: 0, records: 0 };
          seen.written += counts.written;
          seen.rejected += counts.rejected;
          seen.records += counts.records;
          services.set(service, seen);
        }
      },
    });
    const acks: number[] = [];
    w.submit(batch(1, ['{"a":1}', '{"a":2}', '{"a":3}', '[1]'], acks));
    w.submit({
      ...batch(1, ['{"b":1}', '{"b":2}'], acks),
      route: { source: 'o', service: 'other', host: 'h' },
    });
    await w.idle();
    expect(acks).toEqual([4, 2]);
    // Both outputs took every record; the counts are the required output's, once.
    expect(Object.fromEntries(services)).toEqual({
      svc: { written: 3, rejected: 1, records: 4 },
      other: { written: 2, rejected: 0, records: 2 },
    });
    expect({ written: counters.written, rejected: counters.rejected }).toEqual({ written: 5, rejected: 1 });
    expect({ written: progress.written, rejected: progress.rejected }).toEqual({ written: 5, rejected: 1 });
    expect((await readFile(join(dir, 'out', 'svc.copy.log'), 'utf8')).split('\n')).toHaveLength(4);
  } finally {
    await copies.close();
  }
});
