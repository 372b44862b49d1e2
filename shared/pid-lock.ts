import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ignoreMissing } from './durable-file.js';
import { errorCode, type LogwireError } from './errors.js';

export const LOCK_FILE = 'lock';

/**
 * Lock files this process holds, with the text each holds: a lock naming our own pid is ours
 * only if listed here, and only the holder of that very text may take it off the list.
 */
const HELD = new Map<string, string>();

const ATTEMPTS = 3;

export interface PidLockOptions {
  /** The error when a live process holds the lock (`ours`: this very process). */
  readonly held: (pid: number, ours: boolean, path: string) => LogwireError;
  /** The error for anything else that went wrong (I/O), or a lock that kept changing hands. */
  readonly failed: (error: unknown) => LogwireError;
  /** Test seam: whether a pid is a live process (default: signal 0). */
  readonly isAlive?: (pid: number) => boolean;
}

/**
 * An exclusive lock on a directory, held by a process (the collector's state directory, an
 * appender's spool). `lock` holds `<pid> <token>`, written whole to a private file and linked
 * into place (a reader never sees it half-written; link fails if a lock exists, like open 'wx').
 * A lock is stale when its pid is dead, when it is not a lock we wrote — or when it names our
 * own pid but this process does not hold it: a restarted container's process is often pid 1
 * again. A stale lock is renamed aside and re-read before it is removed, so a taker never
 * deletes a lock another taker has just written.
 */
export class PidLock {
  readonly path: string;
  readonly #content: string;

  private constructor(path: string, content: string) {
    this.path = path;
    this.#content = content;
  }

  /** Takes the lock on `dir` (which must exist). */
  static async acquire(dir: string, options: PidLockOptions): Promise<PidLock> {
    const isAlive = options.isAlive ?? processIsAlive;
    const path = join(dir, LOCK_FILE);
    const token = randomBytes(8).toString('hex');
    const content = `${process.pid} ${token}\n`;
    const draft = `${path}.${process.pid}.${token}`;
    try {
      await writeFile(draft, content, { flag: 'wx', mode: 0o644 });
    } catch (error) {
      throw options.failed(error);
    }
    try {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        try {
          await link(draft, path);
          HELD.set(path, content);
          return new PidLock(path, content);
        } catch (error) {
          if (errorCode(error) !== 'EEXIST') throw options.failed(error);
        }
        const holder = await readLock(path).catch((error: unknown) => {
          throw options.failed(error);
        });
        if (holder === undefined) continue; // released meanwhile
        const pid = holderPid(holder);
        const ours = pid === process.pid;
        if (pid !== undefined && (ours ? HELD.has(path) : isAlive(pid))) throw options.held(pid, ours, path);
        await takeOver(path, holder, token).catch((error: unknown) => {
          throw options.failed(error);
        });
      }
      throw options.failed(new Error(`the lock ${path} kept changing hands; try again`));
    } finally {
      await unlink(draft).catch(ignoreMissing);
    }
  }

  /** Removes the lock if it is still ours (a late release of an older lock leaves a newer one). */
  async release(): Promise<void> {
    if (HELD.get(this.path) === this.#content) HELD.delete(this.path);
    const current = await readLock(this.path).catch(() => undefined);
    if (current === this.#content) await unlink(this.path).catch(ignoreMissing);
  }
}

/** Moves a stale lock aside; if what moved is not what was judged stale, puts it back. */
async function takeOver(path: string, stale: string, token: string): Promise<void> {
  const aside = `${path}.stale.${process.pid}.${token}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  const moved = await readLock(aside);
  if (moved !== stale) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(ignoreMissing);
}

async function readLock(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** The pid in a lock's text; undefined when it is not a lock we wrote (then it is stale). */
function holderPid(text: string): number | undefined {
  const match = /^(\d+) [0-9a-f]+\n$/.exec(text);
  const pid = match === null ? 0 : Number(match[1]);
  // Signal 0 to pid 0 would ask about our own process group: never a holder.
  return pid > 0 ? pid : undefined;
}

/** Signal 0 only checks: ESRCH means dead, EPERM alive under another user. */
function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) !== 'ESRCH';
  }
}
