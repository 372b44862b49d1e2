import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, StateLock } from '../../../collector/checkpoint/checkpoint-lock.js';

let dir: string;
const locks: StateLock[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-lock-'));
});

afterEach(async () => {
  await Promise.all(locks.splice(0).map((l) => l.release()));
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  await rm(dir, { recursive: true, force: true });
});

async function acquire(on = dir): Promise<StateLock> {
  const lock = await StateLock.acquire(on);
  locks.push(lock);
  return lock;
}

/** Another process listening on `path` and answering as a lock holder does. */
async function foreignHolder(path: string, answer: string): Promise<ChildProcess> {
  const code =
    `const s=require('net').createServer(c=>c.end(${JSON.stringify(answer)}));` +
    `s.listen(${JSON.stringify(path)},()=>console.log('up'))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await once(child.stdout!, 'data');
  return child;
}

/** A pid that was just used by a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid as number;
}

describe('StateLock', () => {
  it('is a socket while held, removed on release', async () => {
    const lock = await acquire();
    expect((await lstat(join(dir, LOCK_FILE))).isSocket()).toBe(true);
    expect(await readdir(dir)).toEqual([LOCK_FILE]); // no drafts left
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a second holder in this process', async () => {
    await acquire();
    await expect(StateLock.acquire(dir)).rejects.toMatchObject({ code: 'LW_ERR_STATE_LOCKED' });
    await expect(StateLock.acquire(dir)).rejects.toThrow(
      /in use by this process .*is another collector running/,
    );
  });

  it('refuses a lock another live process answers, naming its pid as it reports itself and the path', async () => {
    await foreignHolder(join(dir, LOCK_FILE), '1 box-a 0123456789abcdef\n');
    const refusal = StateLock.acquire(dir);
    await expect(refusal).rejects.toMatchObject({ code: 'LW_ERR_STATE_LOCKED' });
    await expect(refusal).rejects.toThrow(`in use by process 1 on host box-a (lock ${join(dir, LOCK_FILE)})`);
  });

  it('is taken at once after its holder is killed (the socket file left behind is stale)', async () => {
    const holder = await foreignHolder(join(dir, LOCK_FILE), '4242 box 0123456789abcdef\n');
    await expect(StateLock.acquire(dir)).rejects.toThrow(/process 4242/);
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    expect((await lstat(join(dir, LOCK_FILE))).isSocket()).toBe(true);
    await acquire();
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
  });

  it('is not blocked by a pid lock file, even one naming a live process or a reused pid', async () => {
    for (const pid of [await deadPid(), process.ppid, process.pid, 1]) {
      await writeFile(join(dir, LOCK_FILE), `${pid} abcd\n`);
      await (await acquire()).release();
    }
  });

  it('takes over a file that is not a lock', async () => {
    await writeFile(join(dir, LOCK_FILE), '');
    await acquire();
  });

  it('can be taken again after release', async () => {
    const lock = await acquire();
    await lock.release();
    await acquire();
  });

  it('lets exactly one of many concurrent starters win', async () => {
    await writeFile(join(dir, LOCK_FILE), 'stale\n');
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => StateLock.acquire(dir)));
    const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    locks.push(...won);
    expect(won).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'LW_ERR_STATE_LOCKED' });
  });

  it('works in a directory whose path is longer than a socket address can hold', async () => {
    const deep = join(dir, 'd'.repeat(150));
    await mkdir(deep);
    await acquire(deep);
    await expect(StateLock.acquire(deep)).rejects.toMatchObject({ code: 'LW_ERR_STATE_LOCKED' });
    expect((await lstat(join(deep, LOCK_FILE))).isSocket()).toBe(true);
  });
});
