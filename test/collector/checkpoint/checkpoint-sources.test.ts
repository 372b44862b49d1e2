/**
 * The source table: marks only for sources that wrote, at most max_sources of them, the least
 * recently active evicted first (never a live session's), and each eviction counted.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Checkpoint, type CheckpointOptions } from '../../../collector/checkpoint/checkpoint.js';
import { SourceRecency } from '../../../collector/checkpoint/source-recency.js';

let stateDir: string;
const open: Checkpoint[] = [];

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'lw-sources-'));
});

afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
  await rm(stateDir, { recursive: true, force: true });
});

async function checkpoint(max: number, options: CheckpointOptions = {}): Promise<Checkpoint> {
  // A clock close to the `seen` times the tests give, so source_ttl forgets nothing.
  const c = await Checkpoint.open(stateDir, { maxSources: () => max, clock: () => 100_000, ...options });
  open.push(c);
  return c;
}

async function reopen(c: Checkpoint, max: number, options: CheckpointOptions = {}): Promise<Checkpoint> {
  await c.close();
  open.splice(open.indexOf(c), 1);
  return checkpoint(max, options);
}

const ids = (c: Checkpoint): string[] => [...c.marks()].map(([id]) => id).sort();

describe('SourceRecency', () => {
  it('evicts least recently active first, skipping the ones kept, until below max', () => {
    const r = SourceRecency.from([
      ['c', { last: 1, seen: 30, lost: 0 }],
      ['a', { last: 1, seen: 10, lost: 0 }],
      ['b', { last: 1, seen: 20, lost: 0 }],
      ['d', { last: 1, seen: 40, lost: 0 }],
    ]);
    r.touch('a'); // a is now the most recent: order b, c, d, a
    expect(r.makeRoom(4, () => false)).toEqual(['b']);
    expect(r.makeRoom(3, (id) => id === 'c')).toEqual(['d']);
    expect(r.size).toBe(2);
    expect(r.makeRoom(1, () => true)).toEqual([]); // everything kept: nothing to evict
  });
});

describe('Checkpoint source table', () => {
  it('keeps no mark for a source that only registered, across a restart', async () => {
    const c = await checkpoint(10);
    c.touch('idle');
    c.setMark('wrote', 3);
    await c.save();
    expect(c.knows('idle')).toBe(false);
    const again = await reopen(c, 10);
    expect(ids(again)).toEqual(['wrote']);
  });

  it('evicts the least recently written mark when a new source writes into a full table', async () => {
    const c = await checkpoint(3);
    c.setMark('a', 1, 100);
    c.setMark('b', 1, 200);
    c.setMark('c', 1, 300);
    c.setMark('a', 2, 400); // a written again: b is now the oldest
    c.setMark('d', 1, 500);
    expect(ids(c)).toEqual(['a', 'c', 'd']);
    c.noteGap('e', 4, 600); // a gap is activity too, and a new source's first
    expect(ids(c)).toEqual(['a', 'd', 'e']);
    expect(c.evicted).toBe(2);
    expect(c.sources()).toBe(3);
    await c.save();
    // After a restart the order comes from the saved `seen` times.
    const again = await reopen(c, 3);
    again.setMark('f', 1, 700);
    expect(ids(again)).toEqual(['d', 'e', 'f']);
  });

  it('never evicts the mark of a source with a live session', async () => {
    const live = new Set(['a']);
    const c = await checkpoint(2, { inUse: (id) => live.has(id) });
    c.setMark('a', 1, 100);
    c.setMark('b', 1, 200);
    c.setMark('c', 1, 300);
    expect(ids(c)).toEqual(['a', 'c']);
    live.add('c');
    c.setMark('d', 1, 400); // every mark is live: the table goes one past max rather than lose one
    expect(ids(c)).toEqual(['a', 'c', 'd']);
    expect(c.evicted).toBe(1);
  });

  it('forgets a new source whose first tick is undone (its mark set back to 0)', async () => {
    const c = await checkpoint(10);
    c.setMark('new', 5);
    c.setMark('new', 0);
    expect(c.knows('new')).toBe(false);
    expect(c.sources()).toBe(0);
    expect(c.dirty).toBe(false);
  });

  it('forgets at start the empty marks an older collector kept for sources that only registered', async () => {
    const c = await checkpoint(10);
    c.setMark('wrote', 2, 1_000);
    c.noteGap('idle', 0, 1_000); // stands for what an older REGISTER saved: { last: 0, lost: 0 }
    await c.save();
    expect(ids(c)).toEqual(['idle', 'wrote']);
    const again = await reopen(c, 10);
    expect(ids(again)).toEqual(['wrote']);
    expect(again.sources()).toBe(1);
  });

  it('takes 12,000 new writing sources at the default max_sources of 10,000, evicting 2,000', async () => {
    const c = await checkpoint(10_000);
    for (let i = 0; i < 12_000; i++) c.setMark(`s${i}`, 1, i);
    expect(c.sources()).toBe(10_000);
    expect(c.evicted).toBe(2_000);
    expect(c.knows('s1999')).toBe(false);
    expect(c.knows('s2000')).toBe(true);
    await c.save();
    const again = await reopen(c, 10_000);
    expect(again.sources()).toBe(10_000);
    again.setMark('fresh', 1, 20_000);
    expect(again.knows('s2000')).toBe(false);
    expect(again.knows('fresh')).toBe(true);
  });
});
