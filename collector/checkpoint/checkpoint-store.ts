import { writeSync } from 'node:fs';
import { type FileHandle, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode, LogwireError } from '../../shared/errors.js';
import type { Durability } from '../config/config-types.js';
import { journalLine, snapshotLine } from './checkpoint-line.js';

/**
 * How the checkpoint lives on disk: a snapshot plus a journal, so a save costs one append of
 * what changed, not a rewrite of every source's mark (there may be 10,000).
 *
 *   checkpoint.json     {"version":1,"gen":G,"sources":{id:[last,seen,lost]},"outputs":{path:[dev,ino,size,seen]}}
 *   checkpoint.journal  one line per save: {"gen":G,"sources":{…},"outputs":{…}} (null = forgotten)
 *                       and one per write tick before its first byte: {"gen":G,…,"tail":{path:bytes}}
 *
 * `tail` is the write the writer is about to make: the bytes it may add to each file before the
 * next save. It is what lets recovery tell a crash (a file longer than its checkpointed length
 * by at most that tail) from a damaged or stale checkpoint (a file longer by more), which it
 * must not cut (checkpoint-recovery.ts). A tail line replaces the tail; a save clears it.
 *
 * A save is one write of one line (fdatasync'd with durability = fsync); it counts only once
 * its LF is on disk: a torn last line is a save that never completed, so nothing it held was
 * acknowledged, and it is dropped on load. When the journal grows past `compactAt` (and four
 * snapshots), the state is written to `checkpoint.json.tmp`, renamed over the snapshot with
 * the next generation, and the journal is emptied; lines of an older generation (left by a
 * crash in between) are already in the snapshot and skipped. A complete line that does not parse is corruption:
 * skipping it could forget marks that were acknowledged, so loading fails instead.
 */

export const SNAPSHOT_FILE = 'checkpoint.json';
export const JOURNAL_FILE = 'checkpoint.journal';
export const DEFAULT_COMPACT_AT = 1024 * 1024;

const VERSION = 1;

export interface SourceMark {
  /** The highest record number written (the high-water mark); 0 when none. */
  readonly last: number;
  /** Last seen, ms since the epoch (source_ttl forgets marks idle longer). */
  readonly seen: number;
  /** Records counted lost in gaps. */
  readonly lost: number;
}

export interface OutputMark {
  readonly dev: string;
  readonly ino: string;
  /** The file's length at the checkpoint. */
  readonly size: number;
  readonly seen: number;
}

export interface CheckpointState {
  readonly sources: Map<string, SourceMark>;
  readonly outputs: Map<string, OutputMark>;
  /** Bytes the write under way may add to each file past its length above (see the top). */
  tail: ReadonlyMap<string, number>;
}

/** Changes to commit; null forgets the key. */
export interface CheckpointDelta {
  readonly sources: Map<string, SourceMark | null>;
  readonly outputs: Map<string, OutputMark | null>;
  /** When present, replaces the declared tail (an empty map clears it). */
  tail?: ReadonlyMap<string, number>;
}

export interface CheckpointStoreOptions {
  readonly durability?: Durability;
  readonly compactAt?: number;
}

export function emptyDelta(): CheckpointDelta {
  return { sources: new Map(), outputs: new Map() };
}

export class CheckpointStore {
  /** What is on disk. */
  readonly state: CheckpointState;
  /** True when open() found nothing ever saved (no snapshot, no complete journal line). */
  readonly foundEmpty: boolean;
  readonly #dir: string;
  readonly #fsync: boolean;
  readonly #compactAt: number;
  readonly #journal: FileHandle;
  #gen: number;
  #journalBytes: number;
  #snapshotBytes: number;
  /**
   * Set when a failed append could not be cut back (the disk refused that too): the next commit
   * cuts it first, so no line is glued to a torn one, and fails while it cannot.
   */
  #tornTail = false;

  private constructor(
    dir: string,
    options: CheckpointStoreOptions,
    loaded: {
      state: CheckpointState;
      gen: number;
      journal: FileHandle;
      journalBytes: number;
      snapshotBytes: number;
    },
  ) {
    this.#dir = dir;
    this.#fsync = options.durability === 'fsync';
    this.#compactAt = options.compactAt ?? DEFAULT_COMPACT_AT;
    this.state = loaded.state;
    this.#gen = loaded.gen;
    this.#journal = loaded.journal;
    this.#journalBytes = loaded.journalBytes;
    this.#snapshotBytes = loaded.snapshotBytes;
    this.foundEmpty = loaded.snapshotBytes === 0 && loaded.journalBytes === 0;
  }

  /** Loads the snapshot and replays the journal; fails with LW_ERR_CHECKPOINT on corruption. */
  static async open(dir: string, options: CheckpointStoreOptions = {}): Promise<CheckpointStore> {
    const snapshotPath = join(dir, SNAPSHOT_FILE);
    const journalPath = join(dir, JOURNAL_FILE);
    const state: CheckpointState = { sources: new Map(), outputs: new Map(), tail: new Map() };
    let gen = 0;
    let snapshotBytes = 0;
    const text = await readOptional(snapshotPath);
    if (text !== undefined) {
      snapshotBytes = text.length;
      const snapshot = parseRecord(text.toString('utf8'), snapshotPath, true);
      gen = snapshot.gen;
      applyDelta(state, snapshot.delta);
    }
    const journalText = (await readOptional(journalPath)) ?? Buffer.alloc(0);
    let valid = 0;
    for (
      let from = 0, lf = journalText.indexOf(10);
      lf !== -1;
      from = lf + 1, lf = journalText.indexOf(10, from)
    ) {
      const line = parseRecord(journalText.toString('utf8', from, lf), journalPath, false);
      if (line.gen > gen) corrupt(journalPath, `generation ${line.gen} is newer than the snapshot's ${gen}`);
      // Older lines were folded into the snapshot by a compaction that could not empty the journal.
      if (line.gen === gen) applyDelta(state, line.delta);
      valid = lf + 1;
    }
    let journal: FileHandle;
    try {
      journal = await open(journalPath, 'a', 0o600);
      // Drop a torn last line, so the next append starts a line of its own.
      if (valid < journalText.length) await journal.truncate(valid);
      if (options.durability === 'fsync') await syncDirectory(dir);
    } catch (error) {
      throw storeError(`open ${journalPath}`, error);
    }
    return new CheckpointStore(dir, options, { state, gen, journal, journalBytes: valid, snapshotBytes });
  }

  /** Makes `delta` durable (per the durability setting), then applies it to `state`. */
  async commit(delta: CheckpointDelta): Promise<void> {
    if (delta.sources.size === 0 && delta.outputs.size === 0 && delta.tail === undefined) return;
    if (this.#tornTail) await this.#cutTornTail();
    const line = Buffer.from(journalLine(this.#gen, delta));
    if (this.#journalBytes + line.length > Math.max(this.#compactAt, 4 * this.#snapshotBytes)) {
      await this.#compact(delta);
    } else {
      await this.#append(line);
    }
    applyDelta(this.state, delta);
  }

  async close(): Promise<void> {
    await this.#journal.close().catch(() => undefined);
  }

  async #cutTornTail(): Promise<void> {
    try {
      await this.#journal.truncate(this.#journalBytes);
    } catch (error) {
      throw storeError(`cut a torn line off ${join(this.#dir, JOURNAL_FILE)}`, error);
    }
    this.#tornTail = false;
  }

  async #append(line: Buffer): Promise<void> {
    try {
      let written = 0;
      while (written < line.length) {
        // A line of a few hundred bytes into the page cache: written in place, it spares each
        // tick a round trip through libuv's thread pool; the fsync, when asked for, is not.
        const bytesWritten = this.#fsync
          ? (await this.#journal.write(line, written)).bytesWritten
          : writeSync(this.#journal.fd, line, written);
        if (!(bytesWritten > 0)) throw new Error('the write made no progress');
        written += bytesWritten;
      }
      if (this.#fsync) await this.#journal.datasync();
      this.#journalBytes += line.length;
    } catch (error) {
      const failure = storeError(`append to ${join(this.#dir, JOURNAL_FILE)}`, error);
      // A partial line would glue onto the next save's line: cut it now, or before the next one.
      await this.#journal.truncate(this.#journalBytes).catch(() => {
        this.#tornTail = true;
      });
      throw failure;
    }
  }

  async #compact(delta: CheckpointDelta): Promise<void> {
    const next: CheckpointState = {
      sources: new Map(this.state.sources),
      outputs: new Map(this.state.outputs),
      tail: this.state.tail,
    };
    applyDelta(next, delta);
    const snapshot = Buffer.from(snapshotLine(VERSION, this.#gen + 1, next));
    const path = join(this.#dir, SNAPSHOT_FILE);
    const tmp = `${path}.tmp`;
    try {
      const file = await open(tmp, 'w', 0o600);
      try {
        await file.writeFile(snapshot);
        if (this.#fsync) await file.datasync();
      } finally {
        await file.close();
      }
      await rename(tmp, path);
      if (this.#fsync) await syncDirectory(this.#dir);
    } catch (error) {
      throw storeError(`write ${path}`, error);
    }
    // From here the snapshot holds everything; the old journal lines are stale by generation.
    this.#gen++;
    this.#snapshotBytes = snapshot.length;
    // If emptying fails, the lines left are skipped on load (older generation) and later ones follow them.
    await this.#journal.truncate(0).then(
      () => {
        this.#journalBytes = 0;
      },
      () => undefined,
    );
  }
}

function applyDelta(state: CheckpointState, delta: CheckpointDelta): void {
  for (const [key, value] of delta.sources) {
    if (value === null) state.sources.delete(key);
    else state.sources.set(key, value);
  }
  for (const [key, value] of delta.outputs) {
    if (value === null) state.outputs.delete(key);
    else state.outputs.set(key, value);
  }
  if (delta.tail !== undefined) state.tail = delta.tail;
}

/** Parses a snapshot or a journal line (where null forgets a key). */
function parseRecord(text: string, file: string, snapshot: boolean): { gen: number; delta: CheckpointDelta } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    corrupt(file, `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isObject(value)) return corrupt(file, 'not an object');
  if (snapshot && value.version !== VERSION)
    corrupt(file, `version ${String(value.version)} is not ${VERSION}`);
  const gen = value.gen;
  if (!isCount(gen)) return corrupt(file, 'gen is not a number');
  const sources = value.sources;
  const outputs = value.outputs;
  if (!isObject(sources) || !isObject(outputs)) return corrupt(file, 'sources or outputs missing');
  const delta = emptyDelta();
  for (const [id, t] of Object.entries(sources)) {
    if (t === null && !snapshot) delta.sources.set(id, null);
    else if (Array.isArray(t) && t.length === 3 && t.every(isCount)) {
      delta.sources.set(id, { last: t[0] as number, seen: t[1] as number, lost: t[2] as number });
    } else corrupt(file, `source ${JSON.stringify(id)} is malformed`);
  }
  for (const [path, t] of Object.entries(outputs)) {
    if (t === null && !snapshot) delta.outputs.set(path, null);
    else if (
      Array.isArray(t) &&
      t.length === 4 &&
      isDigits(t[0]) &&
      isDigits(t[1]) &&
      isCount(t[2]) &&
      isCount(t[3])
    ) {
      delta.outputs.set(path, {
        dev: t[0] as string,
        ino: t[1] as string,
        size: t[2] as number,
        seen: t[3] as number,
      });
    } else corrupt(file, `output ${JSON.stringify(path)} is malformed`);
  }
  if (value.tail !== undefined) {
    if (!isObject(value.tail)) return corrupt(file, 'tail is not an object');
    const tail = new Map<string, number>();
    for (const [path, bytes] of Object.entries(value.tail)) {
      if (!isCount(bytes)) corrupt(file, `the tail of ${JSON.stringify(path)} is malformed`);
      tail.set(path, bytes as number);
    }
    delta.tail = tail;
  }
  return { gen: gen as number, delta };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isDigits(value: unknown): boolean {
  return typeof value === 'string' && /^\d+$/.test(value);
}

function corrupt(file: string, why: string): never {
  throw new LogwireError(
    'LW_ERR_CHECKPOINT',
    `the checkpoint ${file} is damaged: ${why}. Restore it, or move the state directory away to start ` +
      'without marks (retransmitted records may then be written twice)',
  );
}

function storeError(doing: string, error: unknown): LogwireError {
  if (error instanceof LogwireError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new LogwireError('LW_ERR_CHECKPOINT', `cannot ${doing}: ${reason}`, { cause: error });
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw storeError(`read ${path}`, error);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
