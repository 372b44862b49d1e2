import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IN_PLACE_WRITE_MAX, OutputFile, type WritevFn } from '../../../collector/outputs/output-file.js';

let base: string;
let root: string;
const opened: OutputFile[] = [];

beforeEach(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'lw-output-file-')));
  root = join(base, 'out');
  await mkdir(root);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((f) => f.close()));
  await rm(base, { recursive: true, force: true });
});

async function openFile(
  rel: string,
  options: Parameters<typeof OutputFile.open>[2] = {},
): Promise<OutputFile> {
  const file = await OutputFile.open(root, rel, options);
  opened.push(file);
  return file;
}

describe('OutputFile', () => {
  describe('.open', () => {
    it('creates the file and its directories with exactly the modes asked', async () => {
      const file = await openFile('svc/a.log', { fileMode: 0o604, dirMode: 0o701 });
      expect((await stat(join(root, 'svc/a.log'))).mode & 0o777).toBe(0o604);
      expect((await stat(join(root, 'svc'))).mode & 0o777).toBe(0o701);
      expect(file.openedSize).toBe(0);
      expect(file.ino).toBe(String((await stat(join(root, 'svc/a.log'), { bigint: true })).ino));
    });

    it('leaves the mode of an existing file alone and reports its length', async () => {
      await writeFile(join(root, 'a.log'), 'old\n', { mode: 0o600 });
      const file = await openFile('a.log', { fileMode: 0o644 });
      expect(file.openedSize).toBe(4);
      expect((await stat(join(root, 'a.log'))).mode & 0o777).toBe(0o600);
    });

    it('refuses a symlink at the final path (O_NOFOLLOW)', async () => {
      await writeFile(join(base, 'target'), '');
      await symlink(join(base, 'target'), join(root, 'a.log'));
      await expect(openFile('a.log')).rejects.toMatchObject({ code: 'LW_ERR_PATH_ESCAPE' });
      // Even one that points inside, and a dangling one.
      await writeFile(join(root, 'inside'), '');
      await symlink(join(root, 'inside'), join(root, 'b.log'));
      await expect(openFile('b.log')).rejects.toMatchObject({ code: 'LW_ERR_PATH_ESCAPE' });
      await symlink(join(base, 'nowhere'), join(root, 'c.log'));
      await expect(openFile('c.log')).rejects.toMatchObject({ code: 'LW_ERR_PATH_ESCAPE' });
      await expect(stat(join(base, 'nowhere'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('refuses a symlinked directory leading outside', async () => {
      await mkdir(join(base, 'elsewhere'));
      await symlink(join(base, 'elsewhere'), join(root, 'svc'));
      await expect(openFile('svc/a.log')).rejects.toMatchObject({ code: 'LW_ERR_PATH_ESCAPE' });
    });

    it('refuses what is not a regular file', async () => {
      await mkdir(join(root, 'dir.log'));
      await expect(openFile('dir.log')).rejects.toMatchObject({ code: 'LW_ERR_OUTPUT' });
    });
  });

  describe('#write', () => {
    it('appends many slices in order and returns the length after', async () => {
      const file = await openFile('a.log');
      const chunks = Array.from({ length: 5000 }, (_, i) => Buffer.from(`{"n":${i}}\n`));
      const size = await file.write(chunks);
      const text = await readFile(join(root, 'a.log'), 'utf8');
      expect(text).toBe(chunks.join(''));
      expect(size).toBe(Buffer.byteLength(text));
      expect(await file.write([Buffer.from('{"n":"x"}\n')])).toBe(size + 10);
    });

    it('makes a tick-sized write in place: it needs no thread-pool worker', async () => {
      const file = await openFile('a.log');
      // Every worker of libuv's pool blocks opening a FIFO nobody writes to.
      const fifo = join(base, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const workers = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
      const blockers = Array.from({ length: workers }, () => open(fifo, 'r'));
      try {
        const chunk = Buffer.alloc(IN_PLACE_WRITE_MAX, 0x61);
        let size: number | undefined;
        void file.write([chunk.subarray(0, 10), chunk.subarray(10)]).then((n) => {
          size = n;
        });
        await new Promise((resolve) => setImmediate(resolve)); // one turn of the event loop
        expect(size).toBe(IN_PLACE_WRITE_MAX);
        expect(statSync(join(root, 'a.log')).size).toBe(IN_PLACE_WRITE_MAX);
      } finally {
        // A writer lets every reader's open through, those still to start too: O_RDWR opens a
        // FIFO without waiting for a reader (O_WRONLY | O_NONBLOCK fails while none is there).
        const writer = openSync(fifo, constants.O_RDWR);
        for (const handle of await Promise.all(blockers)) await handle.close();
        closeSync(writer);
      }
    });

    it('makes a larger write through the thread pool, whole and in order', async () => {
      const file = await openFile('a.log');
      const chunks = [Buffer.alloc(IN_PLACE_WRITE_MAX, 0x61), Buffer.from('tail\n')];
      expect(await file.write(chunks)).toBe(IN_PLACE_WRITE_MAX + 5);
      expect((await readFile(join(root, 'a.log'))).equals(Buffer.concat(chunks))).toBe(true);
    });

    it('continues after a short write', async () => {
      let calls = 0;
      const halves: WritevFn = async (handle, chunks) => {
        calls++;
        const first = chunks[0]!;
        const part = first.length > 1 ? first.subarray(0, Math.ceil(first.length / 2)) : first;
        return (await handle.writev([part])).bytesWritten;
      };
      const file = await openFile('a.log', { writev: halves });
      await file.write([Buffer.from('{"a":1}\n'), Buffer.from('{"b":2}\n')]);
      expect(await readFile(join(root, 'a.log'), 'utf8')).toBe('{"a":1}\n{"b":2}\n');
      expect(calls).toBeGreaterThan(2);
    });

    it('cuts a failed write back to the length before it (ENOSPC after a partial write)', async () => {
      await writeFile(join(root, 'a.log'), '{"old":1}\n');
      let calls = 0;
      const fullDisk: WritevFn = async (handle, chunks) => {
        if (calls++ === 0) return (await handle.writev([chunks[0]!.subarray(0, 3)])).bytesWritten;
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      };
      const file = await openFile('a.log', { writev: fullDisk });
      const failure = file.write([Buffer.from('{"new":1}\n'), Buffer.from('{"new":2}\n')]);
      await expect(failure).rejects.toMatchObject({ code: 'LW_ERR_OUTPUT' });
      await expect(failure).rejects.toThrow(/ENOSPC.*cut back to 10 bytes/);
      expect(await readFile(join(root, 'a.log'), 'utf8')).toBe('{"old":1}\n');
    });

    it('fails with LW_ERR_OUTPUT on a write that makes no progress', async () => {
      const file = await openFile('a.log', { writev: async () => 0 });
      await expect(file.write([Buffer.from('{}\n')])).rejects.toMatchObject({ code: 'LW_ERR_OUTPUT' });
      expect(await readFile(join(root, 'a.log'), 'utf8')).toBe('');
    });

    it('fails with LW_ERR_CLOSED once closed', async () => {
      const file = await openFile('a.log');
      await file.close();
      await expect(file.write([Buffer.from('{}\n')])).rejects.toMatchObject({ code: 'LW_ERR_CLOSED' });
    });
  });
});
