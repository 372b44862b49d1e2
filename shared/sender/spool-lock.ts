import { randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LogwireError } from '../errors.js';
import { errorCode, ignoreMissing } from './spool-fs.js';

export const LOCK_FILE = 'lock';

const ATTEMPTS = 3;

/**
 * The exclusive lock on a spool directory (PROTOCOL.md §4): a `lock` file holding
 * `<pid> <token>`. It is written whole to a private file first and then linked into place, so
 * nobody ever reads a half-written lock. A lock whose pid is dead is stale and taken over; two
 * processes taking over the same stale lock in the same instant is a race this does not close.
 */
export class SpoolLock {
  readonly path: string;
  readonly #content: string;

  private constructor(path: string, content: string) {
    this.path = path;
    this.#content = content;
  }

  /**
   * Takes the lock on `dir`. Fails with LW_ERR_SPOOL when a live process (this one included)
   * holds it: the caller then runs without the spool, under a fresh source id.
   */
  static async acquire(dir: string): Promise<SpoolLock> {
    const path = join(dir, LOCK_FILE);
    const token = randomBytes(8).toString('hex');
    const content = `${process.pid} ${token}\n`;
    const draft = join(dir, `${LOCK_FILE}.${process.pid}.${token}`);
    await writeFile(draft, content, { flag: 'wx' });
    try {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        try {
          await link(draft, path);
          return new SpoolLock(path, content);
        } catch (error) {
          if (errorCode(error) !== 'EEXIST') throw error;
        }
        const holder = await readHolder(path);
        if (holder !== undefined && isAlive(holder)) {
          const who = holder === process.pid ? 'this process' : 'another process';
          throw new LogwireError(
            'LW_ERR_SPOOL',
            `spool ${dir} is held by ${who} (pid ${holder}, ${path}); run without it or give each ` +
              'instance its own spool directory',
          );
        }
        // Stale (dead pid or not a lock we wrote) or just released: clear it and try again.
        await unlink(path).catch(ignoreMissing);
      }
      throw new LogwireError('LW_ERR_SPOOL', `spool ${dir}: the lock ${path} kept changing hands; try again`);
    } finally {
      await unlink(draft).catch(ignoreMissing);
    }
  }

  /** Removes the lock if it is still ours (a stale takeover may have replaced it). */
  async release(): Promise<void> {
    const current = await readFile(this.path, 'utf8').catch(() => undefined);
    if (current === this.#content) await unlink(this.path).catch(ignoreMissing);
  }
}

/** The pid in a lock file; undefined when the file is gone or is not a lock we wrote. */
async function readHolder(path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  const match = /^(\d+) [0-9a-f]+\n$/.exec(text);
  return match === null ? undefined : Number(match[1]);
}

/** Signal 0 checks existence only: ESRCH means dead, EPERM means alive under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) !== 'ESRCH';
  }
}
