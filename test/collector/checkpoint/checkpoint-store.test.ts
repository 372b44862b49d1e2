import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { journalLine } from '../../../collector/checkpoint/checkpoint-line.js';
import {
  type CheckpointDelta,
  CheckpointStore,
  emptyDelta,
  JOURNAL_FILE,
  SNAPSHOT_FILE,
} from '../../../collector/checkpoint/checkpoint-store.js';

let dir: string;
const stores: CheckpointStore[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-ckpt-store-'));
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

async function open(compactAt?: number): Promise<CheckpointStore> {
  const store = await CheckpointStore.open(dir, compactAt === undefined ? {} : { compactAt });
  stores.push(store);
  return store;
}

function delta(
  sources: Record<string, number | null>,
  outputs: Record<string, number | null> = {},
): CheckpointDelta {
  const d = emptyDelta();
  for (const [id, last] of Object.entries(sources))
    d.sources.set(id, last === null ? null : { last, seen: 7, lost: 1 });
  for (const [path, size] of Object.entries(outputs)) {
    d.outputs.set(path, size === null ? null : { dev: '2049', ino: '18446744073709551615', size, seen: 7 });
  }
  return d;
}

describe('CheckpointStore', () => {
  it('starts empty and round-trips sources, outputs and forgetting', async () => {
    const store = await open();
    expect(store.state.sources.size).toBe(0);
    await store.commit(delta({ a: 5, b: 9 }, { 'a.log': 100 }));
    await store.commit(delta({ a: 7, b: null }, { 'a.log': 150, 'b.log': 3 }));
    await store.close();
    const again = await open();
    expect([...again.state.sources]).toEqual([['a', { last: 7, seen: 7, lost: 1 }]]);
    expect(again.state.outputs.get('a.log')).toEqual({
      dev: '2049',
      ino: '18446744073709551615',
      size: 150,
      seen: 7,
    });
    expect(again.state.outputs.get('b.log')?.size).toBe(3);
  });

  it('appends one journal line per commit', async () => {
    const store = await open();
    await store.commit(delta({ a: 1 }));
    await store.commit(delta({ a: 2 }));
    await store.commit(emptyDelta()); // nothing to say: nothing written
    const journal = await readFile(join(dir, JOURNAL_FILE), 'utf8');
    expect(journal.split('\n')).toHaveLength(3);
  });

  it('drops a torn last line (a save that never completed) and appends after the good ones', async () => {
    const store = await open();
    await store.commit(delta({ a: 1 }));
    await store.close();
    await appendFile(join(dir, JOURNAL_FILE), '{"gen":0,"sources":{"a":[99,');
    const again = await open();
    expect(again.state.sources.get('a')?.last).toBe(1);
    await again.commit(delta({ a: 2 }));
    await again.close();
    expect((await open()).state.sources.get('a')?.last).toBe(2);
  });

  it('refuses a damaged complete line rather than forget acknowledged marks', async () => {
    const store = await open();
    await store.commit(delta({ a: 1 }));
    await store.close();
    await appendFile(join(dir, JOURNAL_FILE), 'garbage\n');
    await expect(open()).rejects.toMatchObject({ code: 'LW_ERR_CHECKPOINT' });
    await writeFile(join(dir, JOURNAL_FILE), '{"gen":0,"sources":{"a":[-1,0,0]},"outputs":{}}\n');
    await expect(open()).rejects.toThrow(/source "a" is malformed/);
  });

  it('refuses a damaged snapshot', async () => {
    await writeFile(join(dir, SNAPSHOT_FILE), '{"version":1,"gen":0,"sources":{}}');
    await expect(open()).rejects.toMatchObject({ code: 'LW_ERR_CHECKPOINT' });
  });

  it('folds the journal into the snapshot when it grows, and loads the same state', async () => {
    const store = await open(200);
    for (let i = 1; i <= 20; i++) await store.commit(delta({ [`s${i % 3}`]: i }, { 'a.log': i * 10 }));
    // The journal stays within four snapshots (or compactAt, when larger).
    const snapshot = (await stat(join(dir, SNAPSHOT_FILE))).size;
    expect(snapshot).toBeGreaterThan(0);
    expect((await stat(join(dir, JOURNAL_FILE))).size).toBeLessThanOrEqual(4 * snapshot);
    const expected = { sources: [...store.state.sources], outputs: [...store.state.outputs] };
    await store.close();
    const again = await open(200);
    expect({ sources: [...again.state.sources], outputs: [...again.state.outputs] }).toEqual(expected);
    expect(again.state.sources.get('s2')?.last).toBe(20);
  });

  it('skips journal lines of an older generation (a crash between snapshot and emptying)', async () => {
    const store = await open(1);
    await store.commit(delta({ a: 5 })); // compacts at once: snapshot gen 1
    await store.close();
    // What a crash right after the rename would leave: the old generation's lines.
    await writeFile(join(dir, JOURNAL_FILE), '{"gen":0,"sources":{"a":[1,0,0]},"outputs":{}}\n');
    const again = await open();
    expect(again.state.sources.get('a')?.last).toBe(5);
    await again.commit(delta({ a: 6 }));
    await again.close();
    expect((await open()).state.sources.get('a')?.last).toBe(6);
  });
});

describe('journalLine', () => {
  it('is one JSON line holding exactly the delta, whatever the ids', () => {
    const id = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', '42', '0', 'constructor'));
    const count = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
    const source = fc.option(fc.record({ last: count, seen: count, lost: count }), { nil: null });
    const output = fc.option(
      fc.record({
        dev: fc.string({ maxLength: 4 }),
        ino: fc.string({ maxLength: 4 }),
        size: count,
        seen: count,
      }),
      { nil: null },
    );
    fc.assert(
      fc.property(
        fc.nat(),
        fc.array(fc.tuple(id, source), { maxLength: 5 }),
        fc.array(fc.tuple(id, output), { maxLength: 5 }),
        fc.option(fc.array(fc.tuple(id, count), { maxLength: 3 }), { nil: undefined }),
        (gen, sources, outputs, tail) => {
          const d: CheckpointDelta = { sources: new Map(sources), outputs: new Map(outputs) };
          if (tail !== undefined) d.tail = new Map(tail);
          const line = journalLine(gen, d);
          expect(line.endsWith('\n')).toBe(true);
          expect(line.indexOf('\n')).toBe(line.length - 1);
          const back = JSON.parse(line) as Record<string, Record<string, unknown>>;
          const entries = (o: Record<string, unknown>) => new Map(Object.entries(o));
          expect(back.gen).toBe(gen);
          expect(entries(back.sources!)).toEqual(
            new Map([...d.sources].map(([k, m]) => [k, m === null ? null : [m.last, m.seen, m.lost]])),
          );
          expect(entries(back.outputs!)).toEqual(
            new Map([...d.outputs].map(([k, m]) => [k, m === null ? null : [m.dev, m.ino, m.size, m.seen]])),
          );
          if (d.tail === undefined) expect(back).not.toHaveProperty('tail');
          else expect(entries(back.tail!)).toEqual(new Map(d.tail));
        },
      ),
    );
  });

  it.each([
    ['the journal', undefined],
    ['a snapshot', 1],
  ])('keeps a source named __proto__ or like an index across a restart, in %s', async (_, compactAt) => {
    const store = await open(compactAt);
    const d = emptyDelta();
    d.sources.set('__proto__', { last: 5, seen: 7, lost: 0 });
    d.sources.set('42', { last: 6, seen: 7, lost: 0 });
    await store.commit(d);
    await store.close();
    const again = await open();
    expect(again.state.sources.get('__proto__')?.last).toBe(5);
    expect(again.state.sources.get('42')?.last).toBe(6);
    expect((await readFile(join(dir, SNAPSHOT_FILE)).catch(() => undefined)) !== undefined).toBe(
      compactAt !== undefined,
    );
  });
});
