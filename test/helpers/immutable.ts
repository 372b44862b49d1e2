/**
 * Makes paths refuse every write, even root's, for a while: `chattr +i` (the immutable flag).
 * chmod cannot do it (the tests run as root) and not every file system has the flag, so tests
 * probe first and skip, saying why, where it is missing.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Undefined when `chattr +i` works under `dir`, else why it does not. */
export async function immutableUnsupported(dir: string): Promise<string | undefined> {
  const probe = await mkdtemp(join(dir, 'chattr-probe-'));
  const file = join(probe, 'file');
  try {
    await writeFile(file, 'x');
    await run('chattr', ['+i', file]);
    try {
      await writeFile(file, 'y');
      return 'chattr +i does not stop writes here (not running as root?)';
    } catch {
      return undefined;
    } finally {
      await run('chattr', ['-i', file]);
    }
  } catch (error) {
    return `chattr +i is not available on this file system: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}

/** Sets (or clears) the immutable flag on each path. */
export async function setImmutable(paths: readonly string[], on: boolean): Promise<void> {
  await run('chattr', [on ? '+i' : '-i', ...paths]);
}
