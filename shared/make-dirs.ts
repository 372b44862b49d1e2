/**
 * `mkdir -p` that cannot spin. Node's own `mkdir(path, { recursive: true })` loops for ever, at
 * full CPU, where a file system answers ENOENT for the new directory and EEXIST for its parent
 * (procfs: `--output /proc/x`). Here each missing ancestor is made in turn, from the top, once:
 * a parent that exists but will not take the child is the error the caller reports.
 */

import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { errorCode } from './errors.js';

/** The missing directories on the way to `path`, outermost first (empty when it exists). */
function missing(path: string, exists: (p: string) => boolean): string[] {
  const chain: string[] = [];
  for (let at = resolve(path); !exists(at); at = dirname(at)) {
    chain.unshift(at);
    if (dirname(at) === at) break;
  }
  return chain;
}

function existsSync(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** Creates `path` and its missing parents with `mode`; an existing directory is fine. */
export async function makeDirs(path: string, mode?: number): Promise<void> {
  for (const dir of missing(path, existsSync)) {
    try {
      await mkdir(dir, mode === undefined ? {} : { mode });
    } catch (err) {
      if (errorCode(err) !== 'EEXIST' || !(await stat(dir)).isDirectory()) throw err;
    }
  }
}

/** makeDirs, synchronously (for callers that must not yield, such as a save before a reply). */
export function makeDirsSync(path: string, mode?: number): void {
  for (const dir of missing(path, existsSync)) {
    try {
      mkdirSync(dir, mode === undefined ? {} : { mode });
    } catch (err) {
      if (errorCode(err) !== 'EEXIST' || !statSync(dir).isDirectory()) throw err;
    }
  }
}
