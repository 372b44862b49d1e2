import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorCode } from './errors.js';

/**
 * File operations whose durability the spool and the collector's checkpoint and outputs rely on.
 */

/** A catch handler for removals: a file already gone is fine. */
export function ignoreMissing(error: unknown): void {
  if (errorCode(error) !== 'ENOENT') throw error;
}

/**
 * Replaces `path` atomically: a reader sees the old file or the new one, never a mix. With
 * `fsync`, the data and the rename are flushed to the device too (survives a power loss).
 */
export async function writeAtomic(path: string, data: string, fsync: boolean): Promise<void> {
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(data);
    if (fsync) await file.datasync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  if (fsync) await syncDirectory(dirname(path));
}

/** Flushes a directory's entries (creations, renames, removals) to the device. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
