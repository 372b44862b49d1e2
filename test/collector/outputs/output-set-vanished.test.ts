/**
 * An output file deleted or moved away while open: the set notices after each write, before
 * the tick is acknowledged, reopens the path and (for a deleted file) writes the batch again.
 */

import { mkdtemp, readFile, realpath, rename, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutputFileState, Whereabouts, WritevFn } from '../../../collector/outputs/output-file.js';
import { OutputSet, type OutputSetOptions } from '../../../collector/outputs/output-set.js';

let base: string;
let dir: string;
const sets: OutputSet[] = [];

beforeEach(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'lw-output-vanished-')));
  dir = join(base, 'logs');
});

afterEach(async () => {
  await Promise.all(sets.splice(0).map((s) => s.close()));
  await rm(base, { recursive: true, force: true });
});

const noTimers = { setInterval: () => undefined, clearInterval: () => undefined };

interface Watched {
  readonly set: OutputSet;
  readonly vanished: Array<[string, Whereabouts]>;
  readonly opened: OutputFileState[];
}

async function watchedSet(options: Partial<OutputSetOptions> = {}): Promise<Watched> {
  const vanished: Array<[string, Whereabouts]> = [];
  const opened: OutputFileState[] = [];
  const set = await OutputSet.open({
    dir,
    timers: noTimers,
    onVanished: (path, whereabouts) => vanished.push([path, whereabouts]),
    onOpen: async (file) => {
      opened.push(file);
    },
    ...options,
  });
  sets.push(set);
  return { set, vanished, opened };
}

const line = (text: string): Buffer => Buffer.from(`${text}\n`);
const read = (rel: string): Promise<string> => readFile(join(dir, rel), 'utf8');
const inode = async (rel: string): Promise<string> =>
  String((await stat(join(dir, rel), { bigint: true })).ino);

describe('OutputSet: a file deleted while open', () => {
  it('writes the next batch into a new file at the path, and says so once', async () => {
    const { set, vanished, opened } = await watchedSet();
    await set.write('a.log', [line('{"n":1}')]);
    await unlink(join(dir, 'a.log'));
    const state = await set.write('a.log', [line('{"n":2}')]);
    expect(await read('a.log')).toBe('{"n":2}\n');
    expect(state).toMatchObject({ path: 'a.log', size: 8, ino: await inode('a.log') });
    expect(vanished).toEqual([['a.log', 'deleted']]);
    // The new file's identity went to onOpen (the checkpoint) at length 0, before its first byte.
    expect(opened.map((f) => f.size)).toEqual([0, 0]);
    expect(opened[1]!.ino).toBe(await inode('a.log'));
    await set.write('a.log', [line('{"n":3}')]);
    expect(await read('a.log')).toBe('{"n":2}\n{"n":3}\n');
    expect(vanished).toHaveLength(1);
    expect(set.lengths()).toEqual([{ path: 'a.log', dev: opened[1]!.dev, ino: opened[1]!.ino, size: 16 }]);
  });

  it('writes the batch again when the file is deleted during its write', async () => {
    let deleteNext = false;
    const writev: WritevFn = async (handle, chunks) => {
      if (deleteNext) {
        deleteNext = false;
        await unlink(join(dir, 'a.log'));
      }
      return (await handle.writev(chunks)).bytesWritten;
    };
    const { set, vanished } = await watchedSet({ writev });
    await set.write('a.log', [line('{"n":1}')]);
    deleteNext = true;
    const state = await set.write('a.log', [line('{"n":2}'), line('{"n":3}')]);
    expect(await read('a.log')).toBe('{"n":2}\n{"n":3}\n');
    expect(state.size).toBe(16);
    expect(vanished).toEqual([['a.log', 'deleted']]);
  });
});

describe('OutputSet: a file moved away while open', () => {
  it('leaves what it was given in the moved file and opens the path anew for the next batch', async () => {
    const { set, vanished } = await watchedSet();
    await set.write('a.log', [line('{"n":1}')]);
    await rename(join(dir, 'a.log'), join(dir, 'a.log.1'));
    await set.write('a.log', [line('{"n":2}')]);
    expect(vanished).toEqual([['a.log', 'moved']]);
    await set.write('a.log', [line('{"n":3}')]);
    expect(await read('a.log.1')).toBe('{"n":1}\n{"n":2}\n');
    expect(await read('a.log')).toBe('{"n":3}\n');
    expect(vanished).toHaveLength(1);
  });

  it('notices another file put at the path', async () => {
    const { set, vanished } = await watchedSet();
    await set.write('a.log', [line('{"n":1}')]);
    await rename(join(dir, 'a.log'), join(dir, 'a.log.1'));
    await set.write('b.log', [line('{"b":1}')]);
    await rename(join(dir, 'b.log'), join(dir, 'a.log'));
    await set.write('a.log', [line('{"n":2}')]);
    await set.write('a.log', [line('{"n":3}')]);
    expect(vanished).toEqual([['a.log', 'moved']]);
    expect(await read('a.log.1')).toBe('{"n":1}\n{"n":2}\n');
    expect(await read('a.log')).toBe('{"b":1}\n{"n":3}\n');
  });
});
