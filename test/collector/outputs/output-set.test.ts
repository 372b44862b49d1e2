import { copyFile, mkdtemp, readFile, realpath, rename, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutputFileState, WritevFn } from '../../../collector/outputs/output-file.js';
import { OutputSet, type OutputSetOptions, type SweepTimers } from '../../../collector/outputs/output-set.js';

let base: string;
let dir: string;
const sets: OutputSet[] = [];

beforeEach(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'lw-output-set-')));
  dir = join(base, 'logs');
});

afterEach(async () => {
  await Promise.all(sets.splice(0).map((s) => s.close()));
  await rm(base, { recursive: true, force: true });
});

/** Timers the test fires by hand. */
class FakeTimers implements SweepTimers {
  readonly intervals = new Map<object, { fn: () => void; ms: number }>();
  setInterval(fn: () => void, ms: number): unknown {
    const handle = {};
    this.intervals.set(handle, { fn, ms });
    return handle;
  }
  clearInterval(handle: unknown): void {
    this.intervals.delete(handle as object);
  }
  fire(): void {
    for (const { fn } of this.intervals.values()) fn();
  }
}

async function openSet(options: Partial<OutputSetOptions> = {}): Promise<OutputSet> {
  const set = await OutputSet.open({ dir, timers: new FakeTimers(), ...options });
  sets.push(set);
  return set;
}

const line = (text: string): Buffer => Buffer.from(`${text}\n`);
const read = (rel: string): Promise<string> => readFile(join(dir, rel), 'utf8');

describe('OutputSet', () => {
  it('creates the output directory and writes by relative path', async () => {
    const set = await openSet({ dirMode: 0o700 });
    const state = await set.write('svc/a.log', [line('{"a":1}'), line('{"a":2}')]);
    expect(await read('svc/a.log')).toBe('{"a":1}\n{"a":2}\n');
    expect(state).toMatchObject({ path: 'svc/a.log', size: 16 });
    expect(state.ino).toBe(String((await stat(join(dir, 'svc/a.log'), { bigint: true })).ino));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('keeps concurrent writes to one path whole and in call order', async () => {
    const set = await openSet();
    const writes = Array.from({ length: 50 }, (_, i) => set.write('a.log', [line(`{"n":${i}`), line('}')]));
    await Promise.all(writes);
    const expected = Array.from({ length: 50 }, (_, i) => `{"n":${i}\n}\n`).join('');
    expect(await read('a.log')).toBe(expected);
  });

  describe('LRU and idle close', () => {
    it('keeps at most maxOpenFiles open, closing the least recently used', async () => {
      const opens: string[] = [];
      const set = await openSet({
        maxOpenFiles: 2,
        onOpen: async (f) => {
          opens.push(f.path);
        },
      });
      // One write per writer tick: the writer takes lengths() after each (Checkpoint.noteOutputs).
      const tick = async (path: string): Promise<void> => {
        await set.write(path, [line('{}')]);
        set.lengths();
      };
      await tick('a.log');
      await tick('b.log');
      await tick('a.log'); // a is now the most recent
      await tick('c.log'); // evicts b
      expect(set.openCount).toBe(2);
      await tick('a.log');
      await tick('b.log'); // reopens b, evicts c
      expect(opens).toEqual(['a.log', 'b.log', 'c.log', 'b.log']);
      expect(await read('b.log')).toBe('{}\n{}\n');
    });

    it('by default keeps a thousand files open: one per source of a thousand, none reopened', async () => {
      let opens = 0;
      const set = await openSet({
        onOpen: async () => {
          opens += 1;
        },
      });
      // Round robin over 1,000 files, twice, a tick of 50 writes at a time.
      for (let round = 0; round < 2; round++) {
        for (let from = 0; from < 1000; from += 50) {
          const tick = Array.from({ length: 50 }, (_, i) => set.write(`svc-${from + i}.log`, [line('{}')]));
          await Promise.all(tick);
          set.lengths();
        }
      }
      expect(opens).toBe(1000);
      expect(set.openCount).toBe(1000);
    });

    it('never closes a file written since the last lengths(): its tick may still be cut back', async () => {
      const set = await openSet({ maxOpenFiles: 1 });
      await set.write('a.log', [line('{"a":1}')]);
      await set.write('b.log', [line('{"b":1}')]); // a's tick is not committed: a stays open
      expect(set.openCount).toBe(2);
      const written = set.lengths();
      await set.cutBack(written.map((state) => ({ ...state, size: 0 })));
      expect(await read('a.log')).toBe('');
      expect(await read('b.log')).toBe('');
      await set.write('c.log', [line('{}')]); // committed now: the LRU closes the others
      expect(set.openCount).toBe(1);
    });

    it('closes files idle for fileIdleClose ms, on the sweep timer', async () => {
      let now = 1_000;
      const timers = new FakeTimers();
      const set = await openSet({ fileIdleClose: 60_000, clock: () => now, timers });
      expect([...timers.intervals.values()][0]!.ms).toBe(30_000);
      await set.write('a.log', [line('{}')]);
      now += 30_000;
      await set.write('b.log', [line('{}')]);
      now += 30_000; // a idle 60 s, b 30 s
      expect(await set.closeIdle()).toBe(1);
      expect(set.openCount).toBe(1);
      now += 30_000;
      timers.fire();
      await expect.poll(() => set.openCount).toBe(0);
      await set.write('a.log', [line('{"again":1}')]);
      expect(await read('a.log')).toBe('{}\n{"again":1}\n');
    });

    it('stops the sweep on close', async () => {
      const timers = new FakeTimers();
      const set = await openSet({ timers });
      expect(timers.intervals.size).toBe(1);
      await set.close();
      expect(timers.intervals.size).toBe(0);
      await expect(set.write('a.log', [line('{}')])).rejects.toMatchObject({ code: 'LW_ERR_CLOSED' });
    });
  });

  describe('#reopenAll', () => {
    it('follows logrotate create: the old file keeps the earlier records, the new one gets the next', async () => {
      const set = await openSet();
      await set.write('a.log', [line('{"n":1}')]);
      await rename(join(dir, 'a.log'), join(dir, 'a.log.1'));
      await set.write('a.log', [line('{"n":2}')]); // still the open descriptor: the renamed file
      await set.reopenAll();
      expect(set.openCount).toBe(0);
      await set.write('a.log', [line('{"n":3}')]);
      expect(await read('a.log.1')).toBe('{"n":1}\n{"n":2}\n');
      expect(await read('a.log')).toBe('{"n":3}\n');
    });

    it('follows logrotate copytruncate: O_APPEND writes at the new end', async () => {
      const set = await openSet();
      await set.write('a.log', [line('{"n":1}'), line('{"n":2}')]);
      await copyFile(join(dir, 'a.log'), join(dir, 'a.log.1'));
      await truncate(join(dir, 'a.log'), 0);
      const state = await set.write('a.log', [line('{"n":3}')]);
      expect(state.size).toBe(8);
      await set.reopenAll();
      await set.write('a.log', [line('{"n":4}')]);
      expect(await read('a.log.1')).toBe('{"n":1}\n{"n":2}\n');
      expect(await read('a.log')).toBe('{"n":3}\n{"n":4}\n');
    });

    it('lets writes queued before it finish in the old file', async () => {
      const set = await openSet();
      await set.write('a.log', [line('{"n":0}')]);
      const before = set.write('a.log', [line('{"n":1}')]);
      const reopened = set.reopenAll();
      await rename(join(dir, 'a.log'), join(dir, 'a.log.1')).catch(() => undefined);
      await Promise.all([before, reopened]);
      await set.write('a.log', [line('{"n":2}')]);
      const all = (await read('a.log.1').catch(() => '')) + (await read('a.log'));
      expect(all.split('\n').filter(Boolean)).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
    });
  });

  describe('#lengths', () => {
    it('gives the latest identity and length of each file written since the last call', async () => {
      const set = await openSet();
      await set.write('a.log', [line('{}')]);
      await set.write('a.log', [line('{}')]);
      await set.write('b.log', [line('{"b":1}')]);
      const states = set.lengths();
      expect(states.map((s) => [s.path, s.size])).toEqual([
        ['a.log', 6],
        ['b.log', 8],
      ]);
      expect(set.lengths()).toEqual([]);
    });
  });

  describe('onOpen', () => {
    it('runs before the first write into each opened descriptor, with its length at open', async () => {
      const seen: OutputFileState[] = [];
      let sizeDuringHook = -1;
      const set = await openSet({
        onOpen: async (f) => {
          seen.push(f);
          sizeDuringHook = (await stat(join(dir, f.path))).size;
        },
      });
      await set.write('a.log', [line('{}')]);
      expect(sizeDuringHook).toBe(0);
      await set.reopenAll();
      await set.write('a.log', [line('{}')]);
      expect(seen.map((f) => f.size)).toEqual([0, 3]);
      expect(seen[0]!.ino).toBe(seen[1]!.ino);
    });

    it('fails the write, writing nothing, when the hook rejects', async () => {
      const set = await openSet({
        onOpen: async () => {
          throw new Error('checkpoint disk full');
        },
      });
      await expect(set.write('a.log', [line('{}')])).rejects.toMatchObject({ code: 'LW_ERR_OUTPUT' });
      expect(await read('a.log')).toBe('');
    });
  });

  describe('#prepare', () => {
    it('opens (and registers) the file before its first write, which then opens nothing', async () => {
      const opens: OutputFileState[] = [];
      const set = await openSet({
        onOpen: async (f) => {
          opens.push(f);
        },
      });
      await set.prepare('svc/a.log');
      expect(await read('svc/a.log')).toBe('');
      expect(opens).toHaveLength(1);
      expect(set.openCount).toBe(1);
      await set.write('svc/a.log', [line('{}')]);
      expect(await read('svc/a.log')).toBe('{}\n');
      expect(opens).toHaveLength(1);
    });

    it('never rejects: the write that follows a failed open meets the failure and reports it', async () => {
      const set = await openSet();
      await expect(set.prepare('../x.log')).resolves.toBeUndefined();
      await expect(set.write('../x.log', [line('{}')])).rejects.toMatchObject({ code: 'LW_ERR_PATH_ESCAPE' });
      let fail = true;
      const flaky = await openSet({
        dir: join(base, 'flaky'),
        onOpen: async () => {
          if (fail) throw new Error('checkpoint disk full');
        },
      });
      await expect(flaky.prepare('a.log')).resolves.toBeUndefined();
      fail = false;
      await flaky.write('a.log', [line('{"ok":1}')]);
      expect(await readFile(join(base, 'flaky', 'a.log'), 'utf8')).toBe('{"ok":1}\n');
    });

    it('keeps a write queued behind it whole and in order', async () => {
      const set = await openSet();
      const prepared = set.prepare('a.log');
      const written = set.write('a.log', [line('{"n":1}')]);
      await Promise.all([prepared, written]);
      expect(await read('a.log')).toBe('{"n":1}\n');
    });

    it('takes no slot from a file in use: with max_open_files open it opens nothing new', async () => {
      const set = await openSet({ maxOpenFiles: 1 });
      await set.write('a.log', [line('{}')]);
      set.lengths();
      await set.prepare('b.log');
      await expect(stat(join(dir, 'b.log'))).rejects.toMatchObject({ code: 'ENOENT' });
      expect(set.openCount).toBe(1);
      await set.prepare('a.log'); // already open: nothing to do, and no harm
      await set.write('b.log', [line('{}')]); // a write still takes the slot
      expect(await read('b.log')).toBe('{}\n');
    });

    it('does nothing once the set is closed', async () => {
      const set = await openSet();
      await set.close();
      await set.prepare('late.log');
      await expect(stat(join(dir, 'late.log'))).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });

  describe('failures', () => {
    it('rejects with LW_ERR_OUTPUT, leaves the file as it was and reopens on the next write', async () => {
      let fail = true;
      const writev: WritevFn = async (handle, chunks) => {
        if (fail) {
          await handle.writev([chunks[0]!.subarray(0, 2)]);
          throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
        }
        return (await handle.writev(chunks)).bytesWritten;
      };
      const opens: number[] = [];
      const set = await openSet({
        writev,
        onOpen: async (f) => {
          opens.push(f.size);
        },
      });
      await expect(set.write('a.log', [line('{"lost":1}')])).rejects.toMatchObject({ code: 'LW_ERR_OUTPUT' });
      expect(await read('a.log')).toBe('');
      fail = false;
      await set.write('a.log', [line('{"ok":1}')]);
      expect(await read('a.log')).toBe('{"ok":1}\n');
      expect(opens).toEqual([0, 0]);
    });

    it('refuses an escaping path with LW_ERR_PATH_ESCAPE', async () => {
      const set = await openSet();
      await expect(set.write('../x.log', [line('{}')])).rejects.toMatchObject({ code: 'LW_ERR_PATH_ESCAPE' });
    });

    it('keeps outputs out of an excluded directory', async () => {
      const set = await openSet({ exclude: [join(dir, '.state')] });
      await expect(set.write('.state/checkpoint.json', [line('{}')])).rejects.toMatchObject({
        code: 'LW_ERR_PATH_ESCAPE',
      });
    });
  });

  describe('#fsyncAll', () => {
    it('syncs written files, including ones the LRU closed (durability fsync)', async () => {
      const set = await openSet({ maxOpenFiles: 1, durability: 'fsync' });
      await set.write('a.log', [line('{}')]);
      await set.write('b.log', [line('{}')]);
      await set.fsyncAll();
      await set.fsyncAll(); // nothing written since: nothing to do
      expect(await read('a.log')).toBe('{}\n');
    });
  });
});
