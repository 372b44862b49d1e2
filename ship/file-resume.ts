import { findByInode, findCopy, fingerprintOf, statPath } from './file-lookup.js';
import { FileRead } from './file-read.js';
import type { ReadEntry, ReadPositions } from './read-positions.js';

/**
 * A restart puts the saved positions and the spool together (commit-tracker.ts says why the
 * furthest of the two is right) and finds each unfinished read's file again, whatever happened
 * to it while ship was down:
 * - still at its path, same inode, not shorter and same first bytes: resumed where it stopped;
 * - renamed (by inode, in its directory): read to its end, then done; the new file at the path
 *   is picked up by the next scan from 0;
 * - truncated (copytruncate): the copy (by its first bytes) is read from the position, and the
 *   file from 0;
 * - gone: said on stderr, with the offset up to which it was shipped.
 */
export function resumeReads(
  positions: ReadPositions,
  cursors: ReadonlyMap<number, number>,
  stderr: (line: string) => void,
  now: number,
): FileRead[] {
  const reads: FileRead[] = [];
  const open = (entry: ReadEntry, at: string): void => {
    try {
      reads.push(FileRead.open(entry, at, now));
    } catch (error) {
      lost(entry, (error as Error).message);
    }
  };
  const lost = (entry: ReadEntry, why: string): void => {
    stderr(
      `logwire ship: ${entry.path} (inode ${entry.ino}) cannot be read on from offset ${entry.committed}: ${why}\n`,
    );
    positions.remove(entry.id, false);
  };
  for (const entry of [...positions.data.reads]) {
    entry.committed = Math.max(entry.committed, cursors.get(entry.id) ?? 0);
    if (entry.state === 'done') continue;
    const here = statPath(entry.path);
    const same = here !== undefined && here.dev === entry.dev && here.ino === entry.ino;
    if (entry.state === 'live' && same) {
      const head = fingerprintOf(entry.path) ?? '';
      if (here.size >= entry.committed && head.startsWith(entry.fingerprint)) open(entry, entry.path);
      else truncatedWhileDown(entry);
      continue;
    }
    const moved = same ? here : findByInode(entry.path, entry.dev, entry.ino);
    if (moved === undefined) {
      lost(entry, 'it was removed or compressed while ship was not running');
      continue;
    }
    entry.state = 'rotated';
    open(entry, moved.path);
  }
  positions.save();
  return reads;

  function truncatedWhileDown(entry: ReadEntry): void {
    positions.remove(entry.id, false);
    const copy = findCopy(entry.path, entry.fingerprint, entry.committed, entry.ino);
    if (copy === undefined) {
      if (entry.committed > 0)
        stderr(
          `logwire ship: ${entry.path} was truncated while ship was not running and no copy was found\n`,
        );
      return; // the file itself is picked up again by the scan, from 0
    }
    const reread = positions.add({ ...entry, dev: copy.dev, ino: copy.ino, state: 'rotated' }, false);
    open(reread, copy.path);
  }
}
