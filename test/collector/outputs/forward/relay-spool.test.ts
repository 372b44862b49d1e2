import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { RelaySpool } from '../../../../collector/outputs/forward/relay-spool.js';
import {
  decodeEntry,
  encodeHeader,
  type RelayBatch,
} from '../../../../collector/outputs/forward/spool-entry.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-relay-spool-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const OPTIONS = { segmentBytes: 1024, fsync: false, window: 1 << 20 };

function batch(source: string, seq: number, count: number): RelayBatch {
  const body = Buffer.from(Array.from({ length: count }, (_, i) => `{"n":${seq + i}}\n`).join(''), 'latin1');
  return { source, service: 'svc', host: 'h', seq, count, body };
}

/** Marks as a checkpoint would hold them: the highest record saved per source. */
function marksOf(entries: Record<string, number>): (source: string) => number {
  return (source) => entries[source] ?? 0;
}

/** Sequence numbers held per source, in order. */
function held(spool: RelaySpool, source: string): number[] {
  return (spool.source(source)?.window.toArray() ?? []).map((b) => b.seq);
}

it('round-trips an entry through its header and body', () => {
  const b = batch('src-1', 7, 3);
  const data = Buffer.concat([encodeHeader(b), b.body]);
  const read = decodeEntry(data, 0, 1);
  expect(read?.batch).toMatchObject({ source: 'src-1', service: 'svc', host: 'h', seq: 7, count: 3 });
  expect(read?.batch.body.equals(b.body)).toBe(true);
  expect(read?.next).toBe(data.length);
  expect(decodeEntry(data.subarray(0, data.length - 1), 0, 1)).toBeUndefined();
});

it('holds appended batches only once committed, and cuts a failed tick back', async () => {
  const { spool } = await RelaySpool.open(dir, marksOf({}), OPTIONS);
  await spool.append([batch('s', 1, 2)]);
  expect(held(spool, 's')).toEqual([]);
  expect(spool.commit().map((b) => b.seq)).toEqual([1]);
  await spool.append([batch('s', 3, 2)]);
  await spool.cutBack();
  expect(held(spool, 's')).toEqual([1]);
  const bytes = spool.bytes;
  const { spool: reopened, cut } = await RelaySpool.open(dir, marksOf({ s: 2 }), OPTIONS);
  expect(cut).toBe(0);
  expect(held(reopened, 's')).toEqual([1]);
  expect(reopened.bytes).toBe(bytes);
  expect(reopened.source('s')?.end).toBe(3);
});

it('after a crash, cuts the entries at its end that the saved marks do not cover', async () => {
  const { spool } = await RelaySpool.open(dir, marksOf({}), OPTIONS);
  await spool.append([batch('a', 1, 2), batch('b', 1, 1)]);
  spool.commit();
  // The next tick lands, and the process dies before its marks are saved.
  await spool.append([batch('a', 3, 2), batch('b', 2, 5)]);
  const { spool: reopened, cut } = await RelaySpool.open(dir, marksOf({ a: 2, b: 1 }), OPTIONS);
  expect(cut).toBe(2);
  expect(held(reopened, 'a')).toEqual([1]);
  expect(held(reopened, 'b')).toEqual([1]);
  // Appends go on after the cut, and a reopen reads them back whole.
  await reopened.append([batch('a', 3, 2)]);
  reopened.commit();
  const { spool: third } = await RelaySpool.open(dir, marksOf({ a: 4, b: 1 }), OPTIONS);
  expect(held(third, 'a')).toEqual([1, 3]);
});

it('cuts a torn write at the end of a segment', async () => {
  const { spool } = await RelaySpool.open(dir, marksOf({}), OPTIONS);
  await spool.append([batch('s', 1, 1)]);
  spool.commit();
  const [segment] = await readdir(dir).then((names) => names.filter((n) => n.endsWith('.spool')));
  await appendFile(join(dir, segment!), 'F s svc h 2 1 40\n{"n":');
  const { spool: reopened } = await RelaySpool.open(dir, marksOf({ s: 1 }), OPTIONS);
  expect(held(reopened, 's')).toEqual([1]);
  await reopened.append([batch('s', 2, 1)]);
  reopened.commit();
  const { spool: third } = await RelaySpool.open(dir, marksOf({ s: 2 }), OPTIONS);
  expect(held(third, 's')).toEqual([1, 2]);
});

it('frees batches on the upstream ACK and deletes a segment once nothing in it is held', async () => {
  const { spool } = await RelaySpool.open(dir, marksOf({}), { ...OPTIONS, segmentBytes: 100 });
  for (let seq = 1; seq <= 30; seq += 3) {
    await spool.append([batch('s', seq, 3)]);
    spool.commit();
  }
  const before = spool.segments;
  expect(before).toBeGreaterThan(3);
  expect(await spool.ack('s', 15)).toBe(15);
  expect(held(spool, 's')[0]).toBe(16);
  expect(spool.segments).toBeLessThan(before);
  expect(await spool.ack('s', 30)).toBe(15);
  expect(spool.bytes).toBe(0);
  expect(spool.records).toBe(0);
  expect((await readdir(dir)).filter((n) => n.endsWith('.spool')).length).toBe(1);
});

it('property: any order of ticks (committed, failed, crashed), acks and reopens holds every committed, unacknowledged batch, in order, and nothing uncommitted', async () => {
  const SOURCES = ['a', 'b', 'c'] as const;
  const step = fc.oneof(
    fc.record({
      kind: fc.constant('tick' as const),
      sources: fc.uniqueArray(fc.constantFrom(...SOURCES), { minLength: 1, maxLength: 3 }),
      count: fc.integer({ min: 1, max: 4 }),
      fate: fc.constantFrom('commit', 'fail', 'crash'),
    }),
    fc.record({ kind: fc.constant('ack' as const), source: fc.constantFrom(...SOURCES), upTo: fc.nat(60) }),
    fc.record({ kind: fc.constant('reopen' as const) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
      const home = await mkdtemp(join(dir, 'p-'));
      const options = { ...OPTIONS, segmentBytes: 200 };
      // The model: saved marks, committed batches, and acks since the spool was last opened
      // (acks are not kept on disk: after a restart READY's last frees them again).
      const marks: Record<string, number> = {};
      const committed = new Map<string, Array<{ seq: number; end: number }>>();
      let acked: Record<string, number> = {};
      let ackedEver: Record<string, number> = {};
      let { spool } = await RelaySpool.open(home, marksOf(marks), options);
      const reopen = async (): Promise<void> => {
        ({ spool } = await RelaySpool.open(home, marksOf(marks), options));
        acked = {};
      };
      for (const s of steps) {
        if (s.kind === 'tick') {
          const batches = s.sources.map((source) => batch(source, (marks[source] ?? 0) + 1, s.count));
          await spool.append(batches);
          if (s.fate === 'commit') {
            spool.commit();
            for (const b of batches) {
              marks[b.source] = b.seq + b.count - 1;
              committed.set(b.source, [
                ...(committed.get(b.source) ?? []),
                { seq: b.seq, end: marks[b.source]! },
              ]);
            }
          } else if (s.fate === 'fail') await spool.cutBack();
          else await reopen();
        } else if (s.kind === 'ack') {
          const last = Math.min(s.upTo, marks[s.source] ?? 0);
          await spool.ack(s.source, last);
          acked = { ...acked, [s.source]: Math.max(acked[s.source] ?? 0, last) };
          ackedEver = { ...ackedEver, [s.source]: Math.max(ackedEver[s.source] ?? 0, last) };
        } else await reopen();
        for (const source of SOURCES) {
          const list = committed.get(source) ?? [];
          const live = spool.source(source)?.window.toArray() ?? [];
          const starts = live.map((b) => b.seq);
          // In order, each a committed batch, none acknowledged since opening, none uncommitted.
          expect(starts).toEqual([...starts].sort((x, y) => x - y));
          for (const b of live) {
            expect(list.some((c) => c.seq === b.seq && c.end === b.seq + b.count - 1)).toBe(true);
            expect(b.seq + b.count - 1).toBeGreaterThan(acked[source] ?? 0);
          }
          // Every committed batch never acknowledged is held.
          for (const c of list) if (c.end > (ackedEver[source] ?? 0)) expect(starts).toContain(c.seq);
        }
      }
      await rm(home, { recursive: true, force: true });
    }),
    { numRuns: 80 },
  );
});
