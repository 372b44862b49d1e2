import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Where records go that must be dropped (issue #4 `fallback`): the process's stderr or a file
 * opened for appending, written with synchronous writes so nothing waits in memory. Records are
 * written as they came, one JSON line each, so a fallback file is NDJSON that can be replayed.
 * Writing never throws: a failure is counted and the record is only counted as dropped.
 */

export type FallbackTarget = 'stderr' | { readonly path: string };

export interface Fallback {
  /** Writes whole records (LF-terminated lines, or pieces of one oversize record). */
  write(records: Buffer): void;
  /** Records' bytes that could not be written. */
  readonly failedBytes: number;
  close(): void;
}

const STDERR_FD = 2;

/** A fallback that drops everything: when no `fallback` option is set. */
export const NO_FALLBACK: Fallback = Object.freeze({
  write(): void {},
  failedBytes: 0,
  close(): void {},
});

/** How reports name a target ("stderr", or the file's path); undefined without one. */
export function fallbackName(target: FallbackTarget | undefined): string | undefined {
  if (target === undefined) return undefined;
  return target === 'stderr' ? 'stderr' : target.path;
}

/** The records (LF-terminated lines) in a body about to be dropped, for the count reported. */
export function recordsIn(body: Buffer): number {
  let records = 0;
  for (let at = body.indexOf(10); at !== -1; at = body.indexOf(10, at + 1)) records += 1;
  return records;
}

/** Creates the fallback for a target; the file is opened at the first write. */
export function createFallback(target: FallbackTarget | undefined): Fallback {
  if (target === undefined) return NO_FALLBACK;
  return new FdFallback(target);
}

class FdFallback implements Fallback {
  readonly #target: FallbackTarget;
  #fd: number | undefined;
  #failedBytes = 0;
  #closed = false;

  constructor(target: FallbackTarget) {
    this.#target = target;
    if (target === 'stderr') this.#fd = STDERR_FD;
  }

  get failedBytes(): number {
    return this.#failedBytes;
  }

  write(records: Buffer): void {
    if (records.length === 0) return;
    try {
      if (this.#closed) throw new Error('closed');
      if (this.#fd === undefined && this.#target !== 'stderr') this.#fd = openSync(this.#target.path, 'a');
      const fd = this.#fd!;
      let done = 0;
      while (done < records.length) done += writeSync(fd, records, done, records.length - done);
    } catch {
      // EAGAIN on a non-blocking stderr, a full disk: the records stay counted as dropped.
      this.#failedBytes += records.length;
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#fd !== undefined && this.#fd !== STDERR_FD) {
      try {
        closeSync(this.#fd);
      } catch {
        // Nothing left to do with it.
      }
    }
    this.#fd = undefined;
  }
}
