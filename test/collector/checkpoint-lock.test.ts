import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, StateLock } from '../../collector/checkpoint-lock.js';

let dir: string;
const locks: StateLock[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-lock-'));
});

afterEach(async () => {
  await Promise.all(locks.splice(0).map((l) => l.release()));
  await rm(dir, { recursive: true, force: true });
});

async function acquire(isAlive?: (pid: number) => boolean): Promise<StateLock> {
  const lock = await StateLock.acquire(dir, isAlive ? { isAlive } : {});
  locks.push(lock);
  return lock;
}

describe('StateLock', () => {
  it('writes our pid and removes the lock on release', async () => {
    const lock = await acquire();
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toMatch(new RegExp(`^${process.pid} [0-9a-f]+\\n$`));
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a second holder in this process', async () => {
    await acquire();
    await expect(StateLock.acquire(dir)).rejects.toMatchObject({ code: 'LW_ERR_STATE_LOCKED' });
    await expect(StateLock.acquire(dir)).rejects.toThrow(/is another collector running/);
  });

  it('refuses a lock held by another live process', async () => {
    await writeFile(join(dir, LOCK_FILE), '4242 abcd\n');
    await expect(acquire((pid) => pid === 4242)).rejects.toThrow(/in use by process 4242/);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe('4242 abcd\n');
  });

  it('takes over a stale lock (dead pid)', async () => {
    await writeFile(join(dir, LOCK_FILE), '4242 abcd\n');
    await acquire(() => false);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    expect(await readdir(dir)).toEqual([LOCK_FILE]); // no drafts or set-aside files left
  });

  it('takes over a lock naming our pid that this process does not hold (a restarted container)', async () => {
    await writeFile(join(dir, LOCK_FILE), `${process.pid} abcd\n`);
    await acquire(() => true);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).not.toBe(`${process.pid} abcd\n`);
  });

  it('takes over a file that is not a lock we wrote, even when every pid seems alive', async () => {
    for (const text of ['', '4242\n', 'garbage 4242\n', '0 abcd\n']) {
      await writeFile(join(dir, LOCK_FILE), text);
      const lock = await acquire(() => true);
      expect(await readFile(join(dir, LOCK_FILE), 'utf8'), JSON.stringify(text)).toMatch(
        new RegExp(`^${process.pid} [0-9a-f]+\\n$`),
      );
      expect(await readdir(dir)).toEqual([LOCK_FILE]);
      await lock.release();
    }
  });

  it('can be taken again after release, and a late release of the old one leaves the new one held', async () => {
    const first = await acquire();
    const firstText = await readFile(join(dir, LOCK_FILE), 'utf8');
    await first.release();
    await acquire();
    const secondText = await readFile(join(dir, LOCK_FILE), 'utf8');
    expect(secondText).toMatch(new RegExp(`^${process.pid} `));
    expect(secondText).not.toBe(firstText);
    await first.release();
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(secondText);
    await expect(StateLock.acquire(dir)).rejects.toMatchObject({ code: 'LW_ERR_STATE_LOCKED' });
  });
});
