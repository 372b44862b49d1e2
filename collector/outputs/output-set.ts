import { realpath } from 'node:fs/promises';
import { LogwireError } from '../../shared/errors.js';
import { makeDirs } from '../../shared/make-dirs.js';
import type { Durability } from '../config/config-types.js';
import { outputError } from './confined-path.js';
import {
  DEFAULT_DIR_MODE,
  DEFAULT_FILE_MODE,
  OutputFile,
  type OutputFileState,
  type Whereabouts,
  type WritevFn,
} from './output-file.js';

/**
 * The open output files, by path relative to the output directory: an LRU capped at
 * `maxOpenFiles`, files idle for `fileIdleClose` ms closed by a sweep.
 *
 *   write(path, chunks) ─▶ entry (one queue per path) ─▶ OutputFile (fd) ─▶ disk
 *                               ▲ retire: evict / idle / reopenAll / close — after its queue drains
 *
 * After each write the set checks that the path still names the file (OutputFile.whereabouts):
 * a file deleted by hand is reopened at once and the write done again in the new file, before
 * the tick is checkpointed and acknowledged; a file moved away keeps what it was given and the
 * next write opens the path anew. Either way `onVanished` is told once.
 *
 * Operations on one path run one after another (a batch never interleaves with another, and a
 * cut-back after a failed write never cuts someone else's bytes). A retired file's successor
 * waits for the retired queue, so records keep their order across a reopen.
 */

export const DEFAULT_MAX_OPEN_FILES = 1024;
export const DEFAULT_FILE_IDLE_CLOSE = 60_000;

/** Interval timers for the idle sweep; injected so tests drive it. */
export interface SweepTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const systemTimers: SweepTimers = {
  setInterval(fn, ms) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return timer;
  },
  clearInterval(handle) {
    clearInterval(handle as NodeJS.Timeout);
  },
};

export interface OutputSetOptions {
  /** The output directory; created (with `dirMode`) when missing. */
  readonly dir: string;
  readonly fileMode?: number;
  readonly dirMode?: number;
  readonly maxOpenFiles?: number;
  /** ms; 0 never closes for idleness. */
  readonly fileIdleClose?: number;
  /** With `fsync`, a file closed by the LRU, the sweep or a reopen is synced first if written. */
  readonly durability?: Durability;
  /** Directories outputs must stay out of (the state directory); resolved at open. */
  readonly exclude?: readonly string[];
  /**
   * Called after every open, before the first write to that descriptor; the write waits for
   * it and fails if it rejects. The collector wires `Checkpoint.noteOpened` here (see
   * checkpoint.ts: a new file's identity must be durable before anything is written in it).
   */
  readonly onOpen?: (file: OutputFileState) => Promise<void>;
  /** Told once each time an open output is found deleted or moved away (and reopened). */
  readonly onVanished?: (path: string, whereabouts: Exclude<Whereabouts, 'named'>) => void;
  /** ms since the epoch, for idleness. */
  readonly clock?: () => number;
  readonly timers?: SweepTimers;
  /** Test seam, passed to every OutputFile. */
  readonly writev?: WritevFn;
}

interface Entry {
  readonly path: string;
  file: OutputFile | undefined;
  /** The tail of this path's queue; never rejects. */
  queue: Promise<void>;
  /** Operations queued or running. */
  pending: number;
  lastUsed: number;
  /** Written since its last sync. */
  dirty: boolean;
}

export class OutputSet {
  /** The output directory's realpath. */
  readonly root: string;
  readonly #options: OutputSetOptions;
  readonly #entries = new Map<string, Entry>();
  /** Queues of retired entries still draining, by path. */
  readonly #retiring = new Map<string, Promise<void>>();
  readonly #maxOpen: number;
  readonly #idleClose: number;
  readonly #clock: () => number;
  readonly #timers: SweepTimers;
  readonly #sweep: unknown;
  readonly #exclude: readonly string[];
  #closed = false;
  /** The latest state of each file written since the last `lengths()`. */
  #written = new Map<string, OutputFileState>();
  /** A sync that failed while a file was retired, reported by the next fsyncAll. */
  #syncFailure: LogwireError | undefined;

  private constructor(root: string, exclude: readonly string[], options: OutputSetOptions) {
    this.root = root;
    this.#exclude = exclude;
    this.#options = options;
    this.#maxOpen = positiveInteger(options.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES, 'max_open_files');
    this.#idleClose = nonNegative(options.fileIdleClose ?? DEFAULT_FILE_IDLE_CLOSE, 'file_idle_close');
    this.#clock = options.clock ?? Date.now;
    this.#timers = options.timers ?? systemTimers;
    // Sweeping at half the idle time closes a file between 1× and 1.5× its idle time.
    this.#sweep =
      this.#idleClose > 0
        ? this.#timers.setInterval(() => void this.closeIdle(), Math.max(1, Math.ceil(this.#idleClose / 2)))
        : undefined;
  }

  /** Creates the output directory when missing and resolves it (and `exclude`) through symlinks. */
  static async open(options: OutputSetOptions): Promise<OutputSet> {
    try {
      await makeDirs(options.dir, options.dirMode ?? DEFAULT_DIR_MODE);
      const root = await realpath(options.dir);
      const exclude: string[] = [];
      for (const dir of options.exclude ?? []) exclude.push(await realpath(dir).catch(() => dir));
      return new OutputSet(root, exclude, options);
    } catch (error) {
      throw outputError(options.dir, 'open the output directory of', error);
    }
  }

  /** Open files (and files being opened). */
  get openCount(): number {
    return this.#entries.size;
  }

  /**
   * Appends `chunks` to the output at `path` (relative, from PathTemplate.expand) in one write
   * where the kernel allows; resolves to the file's identity and length after the write, for
   * `Checkpoint.noteOutput`. Rejects with LW_ERR_OUTPUT (file left as before) or
   * LW_ERR_PATH_ESCAPE.
   */
  write(path: string, chunks: readonly Buffer[]): Promise<OutputFileState> {
    if (this.#closed) return Promise.reject(closedError());
    const entry = this.#use(path);
    return this.#enqueue(entry, async () => {
      let state = await this.#writeOnce(entry, chunks);
      const file = entry.file as OutputFile;
      const whereabouts = file.whereabouts();
      if (whereabouts === 'named') return state;
      // What a moved file holds is safe under its new name; fsync keeps its promise first.
      entry.file = undefined;
      try {
        if (whereabouts === 'moved' && this.#options.durability === 'fsync') await file.sync();
      } finally {
        await file.close();
      }
      this.#options.onVanished?.(path, whereabouts);
      // A deleted file took this write with it: done again in the new file, before any ACK.
      if (whereabouts === 'deleted') state = await this.#writeOnce(entry, chunks);
      return state;
    });
  }

  /** One write into the entry's file (opened if needed); notes its state for lengths(). */
  async #writeOnce(entry: Entry, chunks: readonly Buffer[]): Promise<OutputFileState> {
    const file = entry.file ?? (await this.#openFile(entry));
    try {
      const size = await file.write(chunks);
      entry.dirty = true;
      const state: OutputFileState = { path: entry.path, dev: file.dev, ino: file.ino, size };
      this.#written.set(entry.path, state);
      return state;
    } catch (error) {
      // A broken descriptor (EBADF, EIO) is not reused: the next write opens the path anew.
      entry.file = undefined;
      await file.close();
      throw error;
    }
  }

  /**
   * Opens the output at `path` ahead of its first write, through the same queue, so the write
   * finds it open; a failure is left for that write to meet and report, and nothing happens
   * when all `max_open_files` slots are taken. A session calls it with READY: the open (several
   * file-system calls, and a durable save for a new file) then overlaps the round trip instead of
   * delaying the first batch.
   */
  prepare(path: string): Promise<void> {
    // Best effort: with every slot taken it would only push out a file in use, for nothing.
    if (this.#closed || (!this.#entries.has(path) && this.#entries.size >= this.#maxOpen))
      return Promise.resolve();
    const entry = this.#use(path);
    return this.#enqueue(entry, async () => {
      if (entry.file === undefined) await this.#openFile(entry);
    }).catch(() => undefined);
  }

  /**
   * The identity and length of every file written since the last call, after its latest write
   * (for `Checkpoint.noteOutputs`); clears the list.
   */
  lengths(): OutputFileState[] {
    const states = [...this.#written.values()];
    this.#written = new Map();
    return states;
  }

  /**
   * Cuts each open file named in `states` back to that length, when it is still that file
   * (dev, ino): after a tick fails, its writes that did land are cut back to the checkpoint
   * (`Checkpoint.savedOutput`), so the records the clients resend are written once. A file
   * closed meanwhile is skipped (the cut then happens at the next start's recovery).
   */
  async cutBack(states: Iterable<OutputFileState>): Promise<void> {
    const cuts: Promise<void>[] = [];
    for (const state of states) {
      const entry = this.#entries.get(state.path);
      if (entry === undefined) continue;
      cuts.push(
        this.#enqueue(entry, async () => {
          const file = entry.file;
          if (file !== undefined && file.dev === state.dev && file.ino === state.ino)
            await file.cutTo(state.size);
        }),
      );
    }
    await Promise.all(cuts);
  }

  /**
   * logrotate's `LOG`: closes every file once its queued writes are done; the next write to
   * a path opens it anew. With `create`, that is the new file; with `copytruncate`, the same
   * one, now shorter, and O_APPEND writes at its new end.
   */
  async reopenAll(): Promise<void> {
    const retired = [...this.#entries.values()].map((entry) => this.#retire(entry));
    await Promise.all(retired);
  }

  /** Syncs every file written since its last sync (durability = fsync), retired ones included. */
  async fsyncAll(): Promise<void> {
    const syncs: Promise<void>[] = [...this.#retiring.values()];
    for (const entry of this.#entries.values()) {
      if (!entry.dirty) continue;
      syncs.push(
        this.#enqueue(entry, async () => {
          if (!entry.dirty || entry.file === undefined) return;
          entry.dirty = false;
          try {
            await entry.file.sync();
          } catch (error) {
            entry.dirty = true;
            throw error;
          }
        }),
      );
    }
    await Promise.all(syncs);
    const failure = this.#syncFailure;
    this.#syncFailure = undefined;
    if (failure !== undefined) throw failure;
  }

  /** Closes files unused for `fileIdleClose` ms; resolves to how many. The sweep calls it. */
  async closeIdle(): Promise<number> {
    if (this.#idleClose <= 0) return 0;
    const before = this.#clock() - this.#idleClose;
    const idle = [...this.#entries.values()].filter((e) => e.pending === 0 && e.lastUsed <= before);
    await Promise.all(idle.map((entry) => this.#retire(entry)));
    return idle.length;
  }

  /** Closes every file after its queued writes; later writes reject with LW_ERR_CLOSED. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      if (this.#sweep !== undefined) this.#timers.clearInterval(this.#sweep);
    }
    await this.reopenAll();
    await Promise.all(this.#retiring.values());
  }

  /** The entry for `path`, created if needed, moved to the LRU's young end. */
  #use(path: string): Entry {
    let entry = this.#entries.get(path);
    if (entry === undefined) {
      entry = {
        path,
        file: undefined,
        // A successor starts after its retired predecessor has closed.
        queue: this.#retiring.get(path) ?? Promise.resolve(),
        pending: 0,
        lastUsed: 0,
        dirty: false,
      };
    } else this.#entries.delete(path);
    this.#entries.set(path, entry);
    entry.lastUsed = this.#clock();
    this.#evict(entry);
    return entry;
  }

  /** Retires the least recently used idle entries while over the cap; busy ones wait their turn. */
  #evict(keep: Entry): void {
    if (this.#entries.size <= this.#maxOpen) return;
    let excess = this.#entries.size - this.#maxOpen;
    for (const entry of this.#entries.values()) {
      if (excess === 0) break;
      // A file written since the last lengths() belongs to a tick not yet committed: if that
      // tick fails, cutBack must still find it open (closed, its bytes would stay and be resent).
      if (entry === keep || entry.pending > 0 || this.#written.has(entry.path)) continue;
      void this.#retire(entry);
      excess--;
    }
  }

  #enqueue<T>(entry: Entry, op: () => Promise<T>): Promise<T> {
    entry.pending++;
    const run = entry.queue.then(op).finally(() => {
      entry.pending--;
    });
    entry.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Takes `entry` out of the set and closes its file once its queue drains (syncing it first with fsync). */
  #retire(entry: Entry): Promise<void> {
    if (this.#entries.get(entry.path) === entry) this.#entries.delete(entry.path);
    const done: Promise<void> = entry.queue
      .then(async () => {
        const file = entry.file;
        entry.file = undefined;
        if (file === undefined) return;
        try {
          if (entry.dirty && this.#options.durability === 'fsync') await file.sync();
        } finally {
          await file.close();
        }
      })
      .catch((error: unknown) => {
        // Nobody awaits a retirement for its result: the next fsyncAll reports a lost sync.
        this.#syncFailure ??= outputError(entry.path, 'sync the closed', error);
      })
      .finally(() => {
        if (this.#retiring.get(entry.path) === done) this.#retiring.delete(entry.path);
      });
    entry.queue = done;
    // A successor's queue starts after this one, so the latest retirement of a path implies the earlier.
    this.#retiring.set(entry.path, done);
    return done;
  }

  async #openFile(entry: Entry): Promise<OutputFile> {
    const file = await OutputFile.open(this.root, entry.path, {
      fileMode: this.#options.fileMode ?? DEFAULT_FILE_MODE,
      dirMode: this.#options.dirMode ?? DEFAULT_DIR_MODE,
      exclude: this.#exclude,
      ...(this.#options.durability === undefined ? {} : { durability: this.#options.durability }),
      ...(this.#options.writev === undefined ? {} : { writev: this.#options.writev }),
    });
    try {
      await this.#options.onOpen?.({ path: entry.path, dev: file.dev, ino: file.ino, size: file.openedSize });
    } catch (error) {
      await file.close();
      throw outputError(entry.path, 'register the opened', error);
    }
    entry.file = file;
    return file;
  }
}

function closedError(): LogwireError {
  return new LogwireError('LW_ERR_CLOSED', 'the output set is closed; no more records can be written');
}

function positiveInteger(value: number, key: string): number {
  if (Number.isSafeInteger(value) && value > 0) return value;
  throw new LogwireError('LW_ERR_BAD_OPTION', `${key} must be a positive integer (got ${String(value)})`);
}

function nonNegative(value: number, key: string): number {
  if (Number.isFinite(value) && value >= 0) return value;
  throw new LogwireError(
    'LW_ERR_BAD_OPTION',
    `${key} must be a duration in ms, 0 or more (got ${String(value)})`,
  );
}
