import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  appendFile,
  cp,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { batch } from '../../../shared/sender/batch.js';
import type { BatchStore } from '../../../shared/sender/batch-store.js';
import { SOURCE_ID_PATTERN } from '../../../shared/sender/source-id.js';
import { ENTRY_HEADER_BYTES } from '../../../shared/sender/spool-segment.js';
import {
  openSpoolStore,
  type SpoolStore,
  type SpoolStoreOptions,
} from '../../../shared/sender/spool-store.js';
import { appendNew, batchStoreSuite, lines, plain } from './batch-store.suite.js';

let base: string;
let dirs = 0;
const fresh = (): string => join(base, `spool-${++dirs}`);

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'logwire-spool-'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

// Small segments and blocks, so the suite also crosses rotations and reservations.
const SMALL: SpoolStoreOptions = { segmentBytes: 300, reserveBlock: 7 };

batchStoreSuite('SpoolStore', {
  open: (options) => openSpoolStore(fresh(), { ...SMALL, ...options }),
  reopen: async (store) => {
    const spool = store as SpoolStore;
    await spool.close();
    return openSpoolStore(spool.dir, { ...SMALL, maxBytes: spool.maxBytes });
  },
});

/** The pid of a process that has exited. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid as number));
  });
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith('seg-')).sort();
}

describe('SpoolStore', () => {
  const opened: BatchStore[] = [];
  const open = async (dir: string, options: SpoolStoreOptions = {}): Promise<SpoolStore> => {
    const store = await openSpoolStore(dir, options);
    opened.push(store);
    return store;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close().catch(() => {})));
  });

  describe('openSpoolStore', () => {
    it('creates the spool with a source id of the §4 form', async () => {
      const dir = fresh();
      const store = await open(dir, { sourcePrefix: 'my app/1' });
      expect(store.sourceId).toMatch(SOURCE_ID_PATTERN);
      expect(store.sourceId).toMatch(/^my_app_1-[0-9a-f]{16}$/);
      expect(store.recovery).toEqual({ created: true, batches: 0, records: 0, tornBytes: 0 });
      expect((await readdir(dir)).sort()).toEqual(['lock', 'meta.json']);
    });

    it('numbers on without a gap after a clean close (the unused rest of a block is given back)', async () => {
      const dir = fresh();
      const first = await open(dir, { reserveBlock: 10_000 });
      await appendNew(first, 3, 'a');
      expect(first.nextSeq).toBe(4);
      await first.close();
      const second = await open(dir, { reserveBlock: 10_000 });
      expect(second.nextSeq).toBe(4);
    });

    it('keeps unacknowledged batches, numbering and source id across a close and reopen', async () => {
      const dir = fresh();
      const first = await open(dir, SMALL);
      const a = await appendNew(first, 3, 'a');
      const b = await appendNew(first, 4, 'b');
      const c = await appendNew(first, 2, 'c');
      await first.ack(a.seq + 2);
      const reserved = first.reserve(5);
      await first.close();

      const second = await open(dir, SMALL);
      expect(second.sourceId).toBe(first.sourceId);
      expect(plain(second.unacked())).toEqual(plain([b, c]));
      expect(second.firstSeq).toBe(b.seq);
      expect(second.nextSeq).toBeGreaterThan(reserved + 4);
      expect(second.recovery).toEqual({ created: false, batches: 2, records: 6, tornBytes: 0 });
      const d = await appendNew(second, 1, 'd');
      expect(d.seq).toBeGreaterThan(reserved + 4);
    });

    it('does not read back batches acknowledged before the close', async () => {
      const dir = fresh();
      const first = await open(dir, SMALL);
      for (let i = 0; i < 10; i++) await appendNew(first, 2);
      await first.ack(20);
      await first.close();
      expect(await segmentFiles(dir)).toEqual([]);
      const second = await open(dir, SMALL);
      expect(second.unacked()).toEqual([]);
      expect(second.firstSeq).toBe(second.nextSeq);
      expect(second.nextSeq).toBeGreaterThan(20);
    });

    it('fails on a spool that has segments but no meta', async () => {
      const dir = fresh();
      const first = await open(dir);
      await appendNew(first, 1);
      await first.close();
      await unlink(join(dir, 'meta.json'));
      await expect(openSpoolStore(dir)).rejects.toMatchObject({
        code: 'LW_ERR_SPOOL',
        message: expect.stringContaining('no meta.json'),
      });
      await expect(stat(join(dir, 'lock'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('fails on a meta file that is not a spool meta', async () => {
      const dir = fresh();
      await (await open(dir)).close();
      await writeFile(join(dir, 'meta.json'), '{"version":1,"source":"../x"}');
      await expect(openSpoolStore(dir)).rejects.toMatchObject({ code: 'LW_ERR_SPOOL' });
    });

    it('works with fsync', async () => {
      const dir = fresh();
      const first = await open(dir, { ...SMALL, fsync: true });
      const a = await appendNew(first, 2);
      await first.close();
      const second = await open(dir, { fsync: true });
      expect(plain(second.unacked())).toEqual(plain([a]));
    });
  });

  describe('segments', () => {
    it('rotates at segmentBytes and deletes a segment once all of it is acknowledged', async () => {
      const dir = fresh();
      const store = await open(dir, { segmentBytes: 200 });
      const batches = [];
      for (let i = 0; i < 6; i++) batches.push(await appendNew(store, 1, 'r', 60));
      const files = await segmentFiles(dir);
      expect(files.length).toBeGreaterThanOrEqual(3);
      expect(files[0]).toBe('seg-0000000000000001.log');
      await store.ack(batches[3]!.seq);
      const left = await segmentFiles(dir);
      expect(left.length).toBeLessThan(files.length);
      await store.close();
      const again = await open(dir);
      expect(again.unacked().map((entry) => entry.seq)).toEqual([batches[4]!.seq, batches[5]!.seq]);
    });
  });

  describe('torn tails', () => {
    async function spoolWithThree(): Promise<{ dir: string; file: string; kept: string[] }> {
      const dir = fresh();
      const store = await open(dir);
      const kept = [await appendNew(store, 2, 'a'), await appendNew(store, 3, 'b')];
      await store.close();
      const [name] = await segmentFiles(dir);
      return { dir, file: join(dir, name!), kept: plain(kept).map((entry) => entry.body) };
    }

    it('cuts garbage after the last batch', async () => {
      const { dir, file, kept } = await spoolWithThree();
      const { size } = await stat(file);
      await appendFile(file, 'garbage that is not a header at all');
      const store = await open(dir);
      expect(plain(store.unacked()).map((entry) => entry.body)).toEqual(kept);
      expect(store.recovery.tornBytes).toBe(35);
      expect((await stat(file)).size).toBe(size);
    });

    it('cuts half a batch left by a crash in the middle of a write', async () => {
      const { dir, file, kept } = await spoolWithThree();
      const writer = await open(dir);
      await appendNew(writer, 4, 'torn');
      await writer.close();
      // A reopened store starts a new segment: the torn batch is alone in the last one.
      const last = join(dir, (await segmentFiles(dir)).at(-1)!);
      expect(last).not.toBe(file);
      await truncate(last, (await stat(last)).size - 10);
      const store = await open(dir);
      expect(plain(store.unacked()).map((entry) => entry.body)).toEqual(kept);
      expect(store.recovery.tornBytes).toBeGreaterThan(ENTRY_HEADER_BYTES);
      // Numbers of the torn batch are not handed out again.
      expect(store.nextSeq).toBeGreaterThan(9);
    });

    it('cuts a batch whose checksum does not match', async () => {
      const { dir, file, kept } = await spoolWithThree();
      const data = await readFile(file);
      data[data.length - 3] = data[data.length - 3]! ^ 0xff;
      await writeFile(file, data);
      const store = await open(dir);
      expect(plain(store.unacked()).map((entry) => entry.body)).toEqual(kept.slice(0, 1));
    });

    it('reads the segments after a damaged one', async () => {
      const dir = fresh();
      const store = await open(dir, { segmentBytes: 100 });
      const batches = [];
      for (let i = 0; i < 3; i++) batches.push(await appendNew(store, 1, 'r', 60));
      await store.close();
      const files = await segmentFiles(dir);
      expect(files).toHaveLength(3);
      await appendFile(join(dir, files[0]!), 'xx');
      const again = await open(dir);
      expect(plain(again.unacked())).toEqual(plain(batches));
      expect(again.recovery.tornBytes).toBe(2);
    });
  });

  describe('after a crash (simulated: the directory copied while the store is open)', () => {
    async function crashCopy(store: SpoolStore): Promise<string> {
      const copy = fresh();
      // A socket cannot be copied; the crashed process's lock is a stale file of a dead pid.
      await cp(store.dir, copy, { recursive: true, filter: (src) => basename(src) !== 'lock' });
      await writeFile(join(copy, 'lock'), `${await deadPid()} 0123456789abcdef\n`);
      return copy;
    }

    it('keeps every appended batch and never reuses a reserved number', async () => {
      const store = await open(fresh(), SMALL);
      const batches = [];
      for (let i = 0; i < 5; i++) batches.push(await appendNew(store, 3));
      await store.ack(4);
      const copy = await crashCopy(store);

      const after = await open(copy, SMALL);
      expect(after.sourceId).toBe(store.sourceId);
      expect(plain(after.unacked())).toEqual(plain(batches.slice(1)));
      expect(after.nextSeq).toBeGreaterThanOrEqual(store.nextSeq);
      const next = await appendNew(after, 1);
      expect(next.seq).toBeGreaterThanOrEqual(store.nextSeq);
    });

    it('has each number in meta.json before the append carrying it resolves', async () => {
      const dir = fresh();
      const store = await open(dir, { reserveBlock: 1 });
      for (let i = 0; i < 20; i++) {
        const entry = await appendNew(store, 1);
        const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
        expect(meta.reserved).toBeGreaterThan(entry.seq);
      }
    });

    it('continues after the durable block even when numbers were reserved but not appended', async () => {
      const store = await open(fresh(), { reserveBlock: 100 });
      await appendNew(store, 1);
      const unsent = store.reserve(50);
      await appendNew(store, 1);
      const copy = await crashCopy(store);
      const after = await open(copy);
      expect(after.nextSeq).toBeGreaterThan(unsent + 50);
    });
  });

  describe('lock', () => {
    it('refuses a second open while the first holds the spool', async () => {
      const dir = fresh();
      const first = await open(dir);
      await expect(openSpoolStore(dir)).rejects.toMatchObject({
        code: 'LW_ERR_SPOOL',
        message: expect.stringContaining(`held by this process, lock ${join(dir, 'lock')}`),
      });
      await first.close();
      await expect(stat(join(dir, 'lock'))).rejects.toMatchObject({ code: 'ENOENT' });
      await open(dir);
    });

    it('refuses a spool another live process holds, naming its pid; takes it once that process is killed', async () => {
      const dir = fresh();
      await (await open(dir)).close();
      const code =
        `require('net').createServer(c=>c.end('77 box 0123456789abcdef\\n'))` +
        `.listen(${JSON.stringify(join(dir, 'lock'))},()=>console.log('up'))`;
      const holder = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await once(holder.stdout!, 'data');
        await expect(openSpoolStore(dir)).rejects.toMatchObject({
          code: 'LW_ERR_SPOOL',
          message: expect.stringContaining(
            `held by another process (pid 77 on host box), lock ${join(dir, 'lock')}`,
          ),
        });
      } finally {
        holder.kill('SIGKILL');
        await once(holder, 'exit');
      }
      await open(dir);
    });

    it('takes over a lock whose process is dead', async () => {
      const dir = fresh();
      const first = await open(dir);
      const a = await appendNew(first, 2);
      await first.close();
      await writeFile(join(dir, 'lock'), `${await deadPid()} 0123456789abcdef\n`);
      const second = await open(dir);
      expect(plain(second.unacked())).toEqual(plain([a]));
      expect((await stat(join(dir, 'lock'))).isSocket()).toBe(true);
    });

    it('takes over a lock file that is not one of ours, keeping what the spool holds', async () => {
      const dir = fresh();
      const first = await open(dir);
      const a = await appendNew(first, 2);
      await first.close();
      await writeFile(join(dir, 'lock'), '');
      const second = await open(dir);
      expect(plain(second.unacked())).toEqual(plain([a]));
      expect((await stat(join(dir, 'lock'))).isSocket()).toBe(true);
    });
  });

  describe('#renewSourceId', () => {
    it('gives a fresh id that a reopen keeps, and numbering goes on', async () => {
      const dir = fresh();
      const store = await open(dir, { sourcePrefix: 'app' });
      const old = store.sourceId;
      await appendNew(store, 3);
      const renewed = await store.renewSourceId();
      expect(renewed).not.toBe(old);
      expect(renewed).toMatch(/^app-[0-9a-f]{16}$/);
      expect(store.nextSeq).toBe(4);
      await store.close();
      expect((await open(dir)).sourceId).toBe(renewed);
    });
  });

  describe('#append', () => {
    it('settles appends in number order after a disk failure, refused ones included', async () => {
      const { symlink } = await import('node:fs/promises');
      const dir = fresh();
      const store = await open(dir, SMALL);
      // Segments open at the first write: this one becomes /dev/full (ENOSPC on every write).
      await symlink('/dev/full', join(dir, 'seg-0000000000000001.log'));
      const settled: number[] = [];
      const note = (seq: number) => () => settled.push(seq);
      const first = batch(store.reserve(1), 1, lines(1, 'a'));
      const waiting = Array.from({ length: 5 }, (_, i) => batch(store.reserve(1), 1, lines(1, `w${i}`)));
      const failed = store.append(first).catch(note(first.seq));
      const queued = waiting.map((b) => store.append(b).catch(note(b.seq)));
      await failed; // the disk failed: later appends are refused, but only after those waiting
      const late = batch(store.reserve(1), 1, lines(1, 'late'));
      await Promise.all([...queued, store.append(late).catch(note(late.seq))]);
      expect(settled).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });

    it('writes batches in order even when appends are not awaited', async () => {
      const dir = fresh();
      const store = await open(dir, SMALL);
      const batches = Array.from({ length: 20 }, (_, i) => batch(store.reserve(2), 2, lines(2, `n${i}`)));
      expect(store.batches).toBe(0);
      const appends = batches.map((entry) => store.append(entry));
      expect(store.batches).toBe(20);
      expect(store.firstSeq).toBe(1);
      await Promise.all(appends);
      await store.close();
      expect(plain((await open(dir)).unacked())).toEqual(plain(batches));
    });
  });
});
