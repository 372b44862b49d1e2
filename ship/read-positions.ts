import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogwireError } from '../shared/errors.js';
import { makeDirsSync } from '../shared/make-dirs.js';

/**
 * ship's durable memory of the files it reads: `<spool dir>/positions.json`. A "read" is one
 * pass over one file (inode) from a start offset: a file rotated by rename keeps its read, a
 * copytruncate starts a new read of the same inode. Each read has an id that also appears in
 * every record it produced (the cursor, ship/line-record.ts), so the spool and this file can be
 * put together after a crash (ship/file-ship.ts says how).
 *
 * Saved with a synchronous write to a temporary file and a rename: a SIGKILL leaves the old or
 * the new file whole, never a mix. (Without fsync: a power loss may keep an older one.)
 */

export type ReadState = 'live' | 'rotated' | 'done';

export interface ReadEntry {
  readonly id: number;
  /** The path it was found under (a rotated file keeps the path it was followed as). */
  path: string;
  readonly dev: number;
  readonly ino: number;
  /** Offset after the last line whose record is in the spool (or acknowledged). */
  committed: number;
  /** The first bytes of the file (hex), to tell a truncated-and-rewritten file from the old one. */
  fingerprint: string;
  state: ReadState;
}

export interface PositionsData {
  nextId: number;
  reads: ReadEntry[];
}

const FILE = 'positions.json';

export class ReadPositions {
  readonly #path: string;
  readonly data: PositionsData;

  private constructor(dir: string, data: PositionsData) {
    this.#path = join(dir, FILE);
    this.data = data;
  }

  /** Loads `<dir>/positions.json` (none yet: empty). Throws LW_ERR_BAD_OPTION on a broken file. */
  static load(dir: string): ReadPositions {
    makeDirsSync(dir);
    let text: string;
    try {
      text = readFileSync(join(dir, FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return new ReadPositions(dir, { nextId: 1, reads: [] });
      throw error;
    }
    const data = JSON.parse(text) as PositionsData;
    if (!Number.isSafeInteger(data.nextId) || !Array.isArray(data.reads)) {
      throw new LogwireError('LW_ERR_BAD_OPTION', `${join(dir, FILE)} is not a positions file; move it away`);
    }
    return new ReadPositions(dir, data);
  }

  /** A new read id, saved before any record carries it. */
  add(entry: Omit<ReadEntry, 'id'>, save = true): ReadEntry {
    const read: ReadEntry = { ...entry, id: this.data.nextId };
    this.data.nextId += 1;
    this.data.reads.push(read);
    if (save) this.save();
    return read;
  }

  /** Forgets a read; `save` false when the caller saves several changes at once. */
  remove(id: number, save = true): void {
    this.data.reads = this.data.reads.filter((read) => read.id !== id);
    if (save) this.save();
  }

  save(): void {
    const temp = `${this.#path}.tmp`;
    writeFileSync(temp, `${JSON.stringify(this.data)}\n`);
    renameSync(temp, this.#path);
  }
}
