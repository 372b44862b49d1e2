import type { Appender } from '../appender/appender.js';
import { CommitTracker } from './commit-tracker.js';
import { findCopy, statPath } from './file-lookup.js';
import { FINGERPRINT_BYTES, FileRead } from './file-read.js';
import { toRecord } from './line-record.js';
import type { SplitLine } from './line-splitter.js';
import { expandPatterns, type PathPattern } from './path-pattern.js';
import type { ReadEntry, ReadPositions, ReadState } from './read-positions.js';
import { MAX_RECORD_BYTES } from './ship-appender.js';

/**
 * Follows the files the patterns name, by polling: each scan picks up new files, notices a
 * rename (the path now names another inode: the old one is read to its end, then the new one
 * from 0) and a copytruncate (the file is shorter than what was read, or begins with other
 * bytes: what the copy holds past the read position is read from the copy, then the file from 0),
 * and reads what was appended. Records go to the appender in file order; CommitTracker moves
 * each read's saved position once its records are in the spool.
 *
 *   live ──(path names another inode, or is gone)──▶ rotated ──(read to its end, quiet)──▶ done
 *     └──(truncated: a new read of the same inode starts; the copy is a rotated read)──▶ done
 */

/** How often the files are looked at, in ms. */
export const POLL_MS = 200;
/** A rotated file that has not grown for this long is finished (late writes land before). */
export const ROTATED_QUIET_MS = 2000;

const TRANSITIONS: Readonly<Record<ReadState, readonly ReadState[]>> = {
  live: ['rotated', 'done'],
  rotated: ['done'],
  done: [],
};

export interface FollowerOptions {
  readonly patterns: readonly PathPattern[];
  readonly positions: ReadPositions;
  readonly appender: Appender;
  readonly stderr: (line: string) => void;
  readonly now?: () => number;
}

export class FileFollower {
  readonly #options: FollowerOptions;
  readonly #positions: ReadPositions;
  readonly #reads = new Map<number, FileRead>();
  readonly #commits: CommitTracker;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: FollowerOptions) {
    this.#options = options;
    this.#positions = options.positions;
    this.#now = options.now ?? Date.now;
    this.#commits = new CommitTracker(options.appender, options.positions);
  }

  /** Opens the reads a restart resumes (file-resume.ts made them). */
  resume(reads: readonly FileRead[]): void {
    for (const read of reads) this.#reads.set(read.entry.id, read);
  }

  start(): void {
    const loop = (): void => {
      this.#running = this.#tick().then(
        () => {
          if (!this.#stopped) this.#timer = setTimeout(loop, POLL_MS);
        },
        (error: unknown) => this.#options.stderr(`logwire ship: ${(error as Error).message}\n`),
      );
    };
    loop();
  }

  /** Stops reading; resolves once every record handed over is in the spool, or after `ms`. */
  async stop(ms: number): Promise<boolean> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
    const settled = await this.#commits.settle(ms);
    for (const read of this.#reads.values()) read.close();
    return settled;
  }

  async #tick(): Promise<void> {
    this.#scan();
    for (const read of [...this.#reads.values()]) {
      if (this.#stopped) return;
      if (read.entry.state === 'live') await this.#check(read);
      await this.#drain(read);
    }
    this.#prune();
  }

  /** New files under the patterns start a live read from 0; known inodes are left alone. */
  #scan(): void {
    const known = new Set(this.#positions.data.reads.map((read) => `${read.dev}:${read.ino}`));
    const livePaths = new Set(
      this.#positions.data.reads.filter((read) => read.state === 'live').map((read) => read.path),
    );
    for (const path of expandPatterns(this.#options.patterns)) {
      if (livePaths.has(path)) continue;
      const found = statPath(path);
      if (found === undefined || known.has(`${found.dev}:${found.ino}`)) continue;
      this.#startRead(path, found.dev, found.ino, 0, 'live');
    }
  }

  #startRead(
    path: string,
    dev: number,
    ino: number,
    from: number,
    state: ReadState,
    save = true,
    openAt = path,
  ): FileRead | undefined {
    const entry = this.#positions.add({ path, dev, ino, committed: from, fingerprint: '', state }, save);
    try {
      const read = FileRead.open(entry, openAt, this.#now());
      entry.fingerprint = read.fingerprintNow();
      this.#reads.set(entry.id, read);
      return read;
    } catch (error) {
      this.#positions.remove(entry.id, save);
      this.#options.stderr(`logwire ship: cannot open ${path}: ${(error as Error).message}\n`);
      return undefined;
    }
  }

  /** A live read: has its path been renamed away, or its file truncated? */
  async #check(read: FileRead): Promise<void> {
    const { entry } = read;
    const now = statPath(entry.path);
    if (now === undefined || now.ino !== entry.ino || now.dev !== entry.dev) {
      // Renamed (or removed): this inode is finished to its end; a new file there is scanned.
      this.#move(entry, 'rotated');
      return;
    }
    const head = read.fingerprintNow();
    if (read.size() >= read.position && head.startsWith(entry.fingerprint)) {
      if (entry.fingerprint.length < FINGERPRINT_BYTES * 2 && head.length > entry.fingerprint.length) {
        entry.fingerprint = head;
      }
      return;
    }
    await this.#truncated(read);
  }

  /**
   * copytruncate: what was read is committed first (so the old read is whole in the spool), then
   * the copy is read from the position the old read reached, and the file anew from 0.
   */
  async #truncated(read: FileRead): Promise<void> {
    await this.#commits.settle(Number.POSITIVE_INFINITY);
    const { entry } = read;
    const position = read.position;
    this.#move(entry, 'done', false);
    read.close();
    this.#reads.delete(entry.id);
    // One save for the whole change: a crash leaves the old read, or the copy and the new one.
    this.#positions.remove(entry.id, false);
    const copy = findCopy(entry.path, entry.fingerprint, position, entry.ino);
    if (copy !== undefined) {
      // Named after the followed path: its records carry the name the lines were written under.
      const reread = this.#startRead(entry.path, copy.dev, copy.ino, position, 'rotated', false, copy.path);
      if (reread !== undefined) reread.entry.fingerprint = entry.fingerprint;
    }
    const now = statPath(entry.path);
    if (now !== undefined) this.#startRead(entry.path, now.dev, now.ino, 0, 'live', false);
    this.#positions.save();
  }

  #move(entry: ReadEntry, to: ReadState, save = true): void {
    if (!TRANSITIONS[entry.state].includes(to)) {
      throw new Error(`read ${entry.id} of ${entry.path} cannot go from ${entry.state} to ${to}`);
    }
    entry.state = to;
    if (save) this.#positions.save();
  }

  /** Reads what the file holds past the read offset; finishes a rotated file once quiet. */
  async #drain(read: FileRead): Promise<void> {
    for (;;) {
      if (this.#stopped || read.entry.state === 'done') return;
      const lines = read.readLines(this.#now());
      if (lines.length === 0) break;
      await this.#hand(read, lines);
    }
    if (read.entry.state === 'rotated' && this.#now() - read.lastGrowth >= ROTATED_QUIET_MS) {
      const last = read.finish();
      if (last !== undefined) await this.#hand(read, [last]);
      this.#move(read.entry, 'done');
      read.close();
      this.#reads.delete(read.entry.id);
    }
  }

  /** Hands the lines' records to the appender (waiting when it asks to), noting their end. */
  async #hand(read: FileRead, lines: readonly SplitLine[]): Promise<void> {
    const { entry } = read;
    const time = this.#now();
    let text = '';
    let records = 0;
    for (const line of lines) {
      const record = toRecord(line.text, time, { path: entry.path, cursor: `${entry.id}:${line.end}` });
      if (record.kind === 'empty') continue;
      if (Buffer.byteLength(record.line) + 1 > MAX_RECORD_BYTES) {
        this.#options.stderr(
          `logwire ship: a line of ${entry.path} is over ${MAX_RECORD_BYTES} bytes: skipped\n`,
        );
        continue;
      }
      text += `${record.line}\n`;
      records += 1;
    }
    const end = lines[lines.length - 1]?.end ?? read.position;
    this.#commits.handed(entry, records, end);
    if (text === '') return;
    const { appender } = this.#options;
    if (!appender.write(text)) await new Promise<void>((resolve) => appender.once('drain', () => resolve()));
  }

  /** Finished reads are forgotten once committed and their inode is no longer under the patterns. */
  #prune(): void {
    const present = new Set<string>();
    for (const path of expandPatterns(this.#options.patterns)) {
      const found = statPath(path);
      if (found !== undefined) present.add(`${found.dev}:${found.ino}`);
    }
    const gone = this.#positions.data.reads.filter(
      (read) =>
        read.state === 'done' && !present.has(`${read.dev}:${read.ino}`) && this.#commits.isCommitted(read),
    );
    for (const read of gone) this.#positions.remove(read.id);
  }
}
