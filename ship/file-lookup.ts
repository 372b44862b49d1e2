import { closeSync, openSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readFingerprint } from './file-read.js';

/**
 * Finding a file again after it moved: a renamed file by its inode, in the directory it was
 * followed in (logrotate renames within it); a copytruncate copy by its first bytes.
 */

export interface Found {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
}

function regularFiles(dir: string): Found[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const files: Found[] = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      const stat = statSync(path);
      if (stat.isFile()) files.push({ path, dev: stat.dev, ino: stat.ino, size: stat.size });
    } catch {
      // gone meanwhile
    }
  }
  return files;
}

/** The file with this inode in the directory of `path`, if any. */
export function findByInode(path: string, dev: number, ino: number): Found | undefined {
  return regularFiles(dirname(path)).find((file) => file.dev === dev && file.ino === ino);
}

/**
 * The copy logrotate's copytruncate made of the file read so far: another file in its
 * directory, at least `size` bytes long, that begins with the same bytes.
 */
export function findCopy(path: string, fingerprint: string, size: number, notIno: number): Found | undefined {
  if (fingerprint === '') return undefined;
  const length = fingerprint.length / 2;
  return regularFiles(dirname(path)).find((file) => {
    if (file.ino === notIno || file.size < size) return false;
    try {
      const fd = openSync(file.path, 'r');
      try {
        return readFingerprint(fd, length) === fingerprint;
      } finally {
        closeSync(fd);
      }
    } catch {
      return false;
    }
  });
}

export function statPath(path: string): Found | undefined {
  try {
    const stat = statSync(path);
    return stat.isFile() ? { path, dev: stat.dev, ino: stat.ino, size: stat.size } : undefined;
  } catch {
    return undefined;
  }
}

/** The first bytes of the file at `path` (hex), or undefined when it cannot be read. */
export function fingerprintOf(path: string): string | undefined {
  try {
    const fd = openSync(path, 'r');
    try {
      return readFingerprint(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}
