import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../durable-file.js';
import { errorCode, LogwireError } from '../errors.js';
import { SOURCE_ID_PATTERN } from './source-id.js';

export const META_FILE = 'meta.json';

/** What a spool keeps besides its batches. */
export interface SpoolMetaState {
  /** The source id, created once with the spool (PROTOCOL.md §4). */
  source: string;
  /** Every number below this may have been handed out: a restart continues from here. */
  reserved: number;
  /** Every record up to this was acknowledged. */
  acked: number;
  /**
   * The last collector's body limit (READY max_body): batches numbered before this run's first
   * READY are cut to it, so they never have to be dropped as too large (PROTOCOL.md §3).
   */
  maxBody?: number;
}

/**
 * The spool's `meta.json`, replaced atomically on each write. Writes are coalesced: `flush()`
 * resolves once the state as it was at the call is on disk, and at most one write runs at a time.
 */
export class SpoolMeta {
  readonly path: string;
  readonly #fsync: boolean;
  readonly #state: SpoolMetaState;
  #persisted: Readonly<SpoolMetaState>;
  #version = 0;
  #persistedVersion = 0;
  #draining: Promise<void> | undefined;

  private constructor(path: string, state: SpoolMetaState, persisted: boolean, fsync: boolean) {
    this.path = path;
    this.#fsync = fsync;
    this.#state = state;
    this.#persisted = { ...state };
    if (!persisted) this.#version = 1;
  }

  /** Reads the meta file of `dir`; `undefined` when there is none. */
  static async read(dir: string, fsync: boolean): Promise<SpoolMeta | undefined> {
    const path = join(dir, META_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    return new SpoolMeta(path, parseMeta(path, text), true, fsync);
  }

  /** A new meta for `dir`, not yet written: call `flush()`. */
  static create(dir: string, source: string, fsync: boolean): SpoolMeta {
    return new SpoolMeta(join(dir, META_FILE), { source, reserved: 1, acked: 0 }, false, fsync);
  }

  /** The current state (maybe not yet on disk). */
  get state(): Readonly<SpoolMetaState> {
    return this.#state;
  }

  /** The state last written to disk. */
  get persisted(): Readonly<SpoolMetaState> {
    return this.#persisted;
  }

  /** Changes the state in memory; `flush()` writes it. */
  update(change: Partial<SpoolMetaState>): void {
    Object.assign(this.#state, change);
    this.#version++;
  }

  /** Resolves once the state as it is now is on disk. */
  flush(): Promise<void> {
    if (this.#persistedVersion === this.#version) return Promise.resolve();
    if (this.#draining !== undefined) return this.#draining.then(() => this.flush());
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  async #drain(): Promise<void> {
    while (this.#persistedVersion !== this.#version) {
      const version = this.#version;
      const snapshot = { ...this.#state };
      await writeAtomic(this.path, `${JSON.stringify({ version: 1, ...snapshot })}\n`, this.#fsync);
      this.#persisted = snapshot;
      this.#persistedVersion = version;
    }
  }
}

function parseMeta(path: string, text: string): SpoolMetaState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LogwireError('LW_ERR_SPOOL', `spool meta ${path} is not JSON; remove the spool directory`, {
      cause: error,
    });
  }
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const { version, source, reserved, acked, maxBody } = record;
  if (
    version !== 1 ||
    typeof source !== 'string' ||
    !SOURCE_ID_PATTERN.test(source) ||
    !isCount(reserved) ||
    reserved < 1 ||
    !isCount(acked)
  ) {
    throw new LogwireError(
      'LW_ERR_SPOOL',
      `spool meta ${path} is not a version 1 meta ({version, source, reserved, acked}); remove the spool directory`,
    );
  }
  return isCount(maxBody) && maxBody > 0 ? { source, reserved, acked, maxBody } : { source, reserved, acked };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
