import { constants, fstatSync, lstatSync, writevSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory } from '../../shared/durable-file.js';
import { errorCode, LogwireError } from '../../shared/errors.js';
import type { Durability } from '../config/config-types.js';
import { confinePath, outputError } from './confined-path.js';

/**
 * One open output file: O_APPEND, so each write lands at the end even after logrotate's
 * copytruncate; O_NOFOLLOW, so a symlink planted at the path is refused; O_NONBLOCK, so a FIFO
 * planted there cannot hang the writer. A batch is one writev where the kernel allows.
 *
 * A write either lands whole or not at all: the length is taken before it, and a short or
 * failed write is cut back to that length, so a file never keeps part of a line.
 */

const { O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_WRONLY } = constants;
const APPEND_FLAGS = O_APPEND | O_CREAT | O_WRONLY | O_NOFOLLOW | O_NONBLOCK;

export const DEFAULT_FILE_MODE = 0o640;
export const DEFAULT_DIR_MODE = 0o750;

/** A file as the checkpoint knows it; dev and ino are decimal strings (they may pass 2^53). */
export interface FileIdentity {
  readonly dev: string;
  readonly ino: string;
}

/** An output after an open or a write: its path (relative to the output directory), identity, length. */
export interface OutputFileState extends FileIdentity {
  readonly path: string;
  readonly size: number;
}

/**
 * Whether the path still names the open file: `deleted` (no name left: what is written goes
 * nowhere), `moved` (renamed or replaced: what was written stays in the file under its new
 * name), or `named`.
 */
export type Whereabouts = 'named' | 'deleted' | 'moved';

/** Writes `chunks` (or a prefix of them) at the end of the file; resolves to the bytes written. */
export type WritevFn = (handle: FileHandle, chunks: Buffer[]) => Promise<number>;

export interface OutputFileOptions {
  readonly fileMode?: number;
  readonly dirMode?: number;
  /** Real directories no output may be opened in (the state directory). */
  readonly exclude?: readonly string[];
  /** With `fsync`, a created file's (and directory's) entry is flushed too: a power loss keeps it. */
  readonly durability?: Durability;
  /** Test seam: how bytes reach the file (default FileHandle.writev). */
  readonly writev?: WritevFn;
}

/**
 * A write up to this size is made in place; a larger one goes through libuv's thread pool, so
 * it cannot hold the event loop for long. Writing a tick's megabyte into the page cache costs
 * less than the round trip: the pool's wake-ups (measured at up to 10 % of the collector's CPU
 * per record), and a completion that waits behind the socket reads the loop is busy with.
 */
export const IN_PLACE_WRITE_MAX = 2 * 1024 * 1024;

const systemWritev: WritevFn = async (handle, chunks) => {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  if (total <= IN_PLACE_WRITE_MAX) return writevSync(handle.fd, chunks);
  return (await handle.writev(chunks)).bytesWritten;
};

export class OutputFile implements FileIdentity {
  /** Relative to the output directory. */
  readonly path: string;
  readonly dev: string;
  readonly ino: string;
  /** The length when opened. */
  readonly openedSize: number;
  /** The absolute path it was opened at. */
  readonly #abs: string;
  readonly #handle: FileHandle;
  readonly #writev: WritevFn;
  /** dev and ino as numbers, when both are exact as numbers (see whereabouts). */
  readonly #numericId: { readonly dev: number; readonly ino: number } | undefined;
  #closed = false;

  private constructor(
    path: string,
    abs: string,
    handle: FileHandle,
    id: FileIdentity,
    size: number,
    writev: WritevFn,
  ) {
    this.path = path;
    this.#abs = abs;
    this.#handle = handle;
    this.dev = id.dev;
    this.ino = id.ino;
    this.openedSize = size;
    this.#writev = writev;
    const [dev, ino] = [Number(id.dev), Number(id.ino)];
    this.#numericId = Number.isSafeInteger(dev) && Number.isSafeInteger(ino) ? { dev, ino } : undefined;
  }

  /**
   * Opens (creating it and its directories when missing) `rel` under `rootReal`, a realpath.
   * Created files get exactly `fileMode`, created directories exactly `dirMode` (the umask
   * does not apply: the operator chose them). Escapes fail with LW_ERR_PATH_ESCAPE, other
   * failures with LW_ERR_OUTPUT.
   */
  static async open(rootReal: string, rel: string, options: OutputFileOptions = {}): Promise<OutputFile> {
    const fileMode = options.fileMode ?? DEFAULT_FILE_MODE;
    const dirMode = options.dirMode ?? DEFAULT_DIR_MODE;
    const exclude = options.exclude ?? [];
    const sync = options.durability === 'fsync';
    const abs = (await confinePath(rootReal, rel, { dirMode, exclude, sync })) as string;
    let handle: FileHandle | undefined;
    let created = false;
    try {
      // O_EXCL first, to know whether we created it and must set its mode.
      handle = await open(abs, APPEND_FLAGS | O_EXCL, fileMode);
      created = true;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw outputError(rel, 'create', error);
    }
    if (handle === undefined) {
      try {
        handle = await open(abs, APPEND_FLAGS, fileMode);
      } catch (error) {
        if (errorCode(error) === 'ELOOP') {
          throw new LogwireError(
            'LW_ERR_PATH_ESCAPE',
            `output ${JSON.stringify(rel)} is a symlink; not opened`,
          );
        }
        throw outputError(rel, 'open', error);
      }
    }
    try {
      if (created) {
        await handle.chmod(fileMode);
        if (sync) await syncDirectory(dirname(abs));
      }
      const stat = await handle.stat({ bigint: true });
      if (!stat.isFile())
        throw new LogwireError('LW_ERR_OUTPUT', `output ${JSON.stringify(rel)} is not a regular file`);
      const id = { dev: String(stat.dev), ino: String(stat.ino) };
      return new OutputFile(rel, abs, handle, id, Number(stat.size), options.writev ?? systemWritev);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw outputError(rel, 'open', error);
    }
  }

  /**
   * Appends `chunks` as one write where possible; resolves to the file's length after it. On
   * failure (ENOSPC, EIO…) the file is cut back to its length before, and the promise rejects
   * with LW_ERR_OUTPUT (whose message says so if even the cut failed).
   */
  async write(chunks: readonly Buffer[]): Promise<number> {
    if (this.#closed)
      throw new LogwireError('LW_ERR_CLOSED', `output ${JSON.stringify(this.path)} is closed`);
    let total = 0;
    for (const chunk of chunks) total += chunk.length;
    let before: number;
    try {
      // fstat reads the inode, never the disk: done in place, it spares each write a round trip
      // through libuv's thread pool (which, on a busy machine, costs more than the write).
      before = fstatSync(this.#handle.fd).size;
    } catch (error) {
      throw outputError(this.path, 'write', error);
    }
    if (total === 0) return before;
    let written = 0;
    let rest = chunks as Buffer[];
    try {
      while (written < total) {
        const n = await this.#writev(this.#handle, rest);
        if (!(n > 0)) throw new Error(`the write made no progress (${written} of ${total} bytes written)`);
        written += n;
        if (written < total) rest = dropBytes(chunks, written);
      }
    } catch (error) {
      throw await this.#cutBack(before, written, error);
    }
    return before + total;
  }

  /**
   * Whether the path still names this file (see Whereabouts). Two stat calls that read cached
   * inodes, done in place like the fstat in write(): the writer asks once per tick and file.
   * The path's identity is compared as numbers when this file's dev and ino are exact as
   * numbers (a number past 2^53 that rounds cannot equal one below it): a bigint stat costs
   * several times a plain one. Otherwise it is compared exactly, as decimal strings.
   */
  whereabouts(): Whereabouts {
    try {
      if (fstatSync(this.#handle.fd).nlink === 0) return 'deleted';
      const id = this.#numericId;
      if (id !== undefined) {
        const named = lstatSync(this.#abs, { throwIfNoEntry: false });
        return named !== undefined && named.dev === id.dev && named.ino === id.ino ? 'named' : 'moved';
      }
      const named = lstatSync(this.#abs, { bigint: true, throwIfNoEntry: false });
      if (named === undefined || String(named.dev) !== this.dev || String(named.ino) !== this.ino)
        return 'moved';
      return 'named';
    } catch {
      // Cannot tell (EACCES on a directory on the way…): keep writing where we write.
      return 'named';
    }
  }

  /** Cuts the file back to `size` if it is longer (never lengthens it: that would add zeros). */
  async cutTo(size: number): Promise<void> {
    if (this.#closed) return;
    try {
      if ((await this.#handle.stat()).size > size) await this.#handle.truncate(size);
    } catch (error) {
      throw outputError(this.path, `cut back to ${size} bytes`, error);
    }
  }

  /** Flushes written data (and the length) to the device. */
  async sync(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#handle.datasync();
    } catch (error) {
      throw outputError(this.path, 'fsync', error);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handle.close().catch(() => undefined);
  }

  async #cutBack(before: number, written: number, cause: unknown): Promise<LogwireError> {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const what = `cannot write output ${JSON.stringify(this.path)}: ${reason}`;
    try {
      const now = (await this.#handle.stat()).size;
      // Only ever shorten: if the file shrank meanwhile (copytruncate), a cut would add zeros.
      if (now > before) await this.#handle.truncate(before);
      else if (now < before && written > 0) {
        return new LogwireError(
          'LW_ERR_OUTPUT',
          `${what}; the file shrank meanwhile, ${written} bytes of a partial batch may remain`,
          { cause },
        );
      }
      return new LogwireError('LW_ERR_OUTPUT', `${what}; the file was cut back to ${before} bytes`, {
        cause,
      });
    } catch (cutError) {
      const cutReason = cutError instanceof Error ? cutError.message : String(cutError);
      const left =
        written > 0
          ? `${written} bytes of a partial batch remain after byte ${before}`
          : 'no bytes were written';
      return new LogwireError('LW_ERR_OUTPUT', `${what}; cutting it back failed (${cutReason}): ${left}`, {
        cause,
      });
    }
  }
}

/** `chunks` without their first `skip` bytes (views, no copies). */
function dropBytes(chunks: readonly Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    out.push(skip > 0 ? chunk.subarray(skip) : chunk);
    skip = 0;
  }
  return out;
}
