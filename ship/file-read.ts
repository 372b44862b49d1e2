import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LineSplitter, type SplitLine } from './line-splitter.js';
import type { ReadEntry } from './read-positions.js';

/**
 * One open pass over one file: the descriptor, where the next read starts and the line not yet
 * ended. It keeps reading the inode it opened whatever happens to the path, which is how a file
 * renamed away by logrotate is finished to its end.
 */

/** Bytes read per call: large enough for throughput, small enough to interleave files. */
const CHUNK_BYTES = 1024 * 1024;
/** Bytes compared to tell a rewritten file from the one read so far. */
export const FINGERPRINT_BYTES = 256;

export class FileRead {
  readonly entry: ReadEntry;
  readonly #fd: number;
  readonly #splitter: LineSplitter;
  /** Where the next byte is read from (past any line not yet ended). */
  #offset: number;
  /** When the file last grew (ms), for finishing a rotated file once it is quiet. */
  lastGrowth: number;

  private constructor(entry: ReadEntry, fd: number, now: number) {
    this.entry = entry;
    this.#fd = fd;
    this.#splitter = new LineSplitter(entry.committed);
    this.#offset = entry.committed;
    this.lastGrowth = now;
  }

  /** Opens `path` for the read (throws when it cannot be opened). */
  static open(entry: ReadEntry, path: string, now: number): FileRead {
    return new FileRead(entry, openSync(path, 'r'), now);
  }

  /** Offset after the last whole line returned: where a new read of the rest would start. */
  get position(): number {
    return this.#splitter.position;
  }

  size(): number {
    return fstatSync(this.#fd).size;
  }

  /** Whole lines from the read offset, up to one chunk; empty at the end of the file. */
  readLines(now: number): SplitLine[] {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    const bytes = readSync(this.#fd, buffer, 0, CHUNK_BYTES, this.#offset);
    if (bytes === 0) return [];
    this.#offset += bytes;
    this.lastGrowth = now;
    return this.#splitter.push(buffer.subarray(0, bytes));
  }

  /** A file that will not grow any more: its last line without LF, if any. */
  finish(): SplitLine | undefined {
    return this.#splitter.finish();
  }

  /** The file's first bytes now (hex), up to FINGERPRINT_BYTES. */
  fingerprintNow(length = FINGERPRINT_BYTES): string {
    return readFingerprint(this.#fd, length);
  }

  close(): void {
    try {
      closeSync(this.#fd);
    } catch {
      // already closed: nothing held
    }
  }
}

export function readFingerprint(fd: number, length = FINGERPRINT_BYTES): string {
  const buffer = Buffer.alloc(length);
  const bytes = readSync(fd, buffer, 0, length, 0);
  return buffer.subarray(0, bytes).toString('hex');
}
