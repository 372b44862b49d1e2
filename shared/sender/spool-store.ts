import { type FileHandle, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ignoreMissing, syncDirectory } from '../durable-file.js';
import { LogwireError } from '../errors.js';
import { makeDirs } from '../make-dirs.js';
import { type Batch, lastSeq } from './batch.js';
import { BatchQueue } from './batch-queue.js';
import { appendError, type BatchStore, checkReserveCount } from './batch-store.js';
import { newSourceId } from './source-id.js';
import { spoolError } from './spool-fs.js';
import { type LoadedSpool, loadSpool, type Segment, type SpoolRecovery } from './spool-load.js';
import { SpoolLock } from './spool-lock.js';
import type { SpoolMeta } from './spool-meta.js';
import { ENTRY_HEADER_BYTES, entryHeader, segmentName } from './spool-segment.js';

export const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;
export const DEFAULT_RESERVE_BLOCK = 10_000;

export interface SpoolStoreOptions {
  /** Bound on the body bytes held; default unbounded. */
  readonly maxBytes?: number;
  /** A segment file is closed once it would pass this size, and deleted once all of it is acked. */
  readonly segmentBytes?: number;
  /** Numbers are made durable this many at a time; a crash skips the rest of a block (§3). */
  readonly reserveBlock?: number;
  /**
   * Flush each write to the device before `append` resolves. Without it (the default) what was
   * written survives a crash of the app, since the kernel has it, but not a power loss.
   */
  readonly fsync?: boolean;
  /** Prefix of the source id, used when the spool is created (and by `renewSourceId`). */
  readonly sourcePrefix?: string;
}

interface OpenSegment {
  readonly segment: Segment;
  readonly handle: FileHandle;
}

const noop = (): void => {};

/**
 * Opens (or creates) the spool in `dir`: takes its lock, reads back the batches a previous run
 * left unacknowledged (cutting a torn tail) and continues its numbering and source id. Fails with
 * LW_ERR_SPOOL when another live process holds the spool or the directory cannot be used.
 */
export function openSpoolStore(dir: string, options: SpoolStoreOptions = {}): Promise<SpoolStore> {
  return SpoolStore.open(dir, options);
}

/**
 * A BatchStore on disk (issue #4): batches are written to segment files before `append` resolves
 * and leave the disk when acknowledged, so a crash or `process.exit()` of the app loses nothing
 * the store accepted. The held batches are also kept in memory for resending.
 *
 * ```
 *  append ─▶ pending (being written, in order) ─▶ held (on disk and in memory) ─▶ ack ─▶ gone
 *            reserve ─▶ meta.json `reserved` written before any batch numbered past it
 * ```
 */
export class SpoolStore implements BatchStore {
  readonly dir: string;
  readonly maxBytes: number;
  /** What opening found on disk. */
  readonly recovery: SpoolRecovery;
  readonly #lock: SpoolLock;
  readonly #meta: SpoolMeta;
  readonly #options: SpoolStoreOptions;
  readonly #held: BatchQueue;
  readonly #pending = new BatchQueue();
  #segments: Segment[];
  #current: OpenSegment | undefined;
  #nextSeq: number;
  #lastAppended: number;
  #tail: Promise<void> = Promise.resolve();
  #failure: LogwireError | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;

  private constructor(dir: string, lock: SpoolLock, options: SpoolStoreOptions, loaded: LoadedSpool) {
    this.dir = dir;
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.#lock = lock;
    this.#options = options;
    this.#meta = loaded.meta;
    this.#held = loaded.held;
    this.#segments = loaded.segments;
    this.recovery = loaded.recovery;
    this.#lastAppended = loaded.last;
    this.#nextSeq = Math.max(loaded.meta.state.reserved, loaded.last + 1);
  }

  /** See `openSpoolStore`. */
  static async open(dir: string, options: SpoolStoreOptions = {}): Promise<SpoolStore> {
    let lock: SpoolLock;
    try {
      await makeDirs(dir);
      lock = await SpoolLock.acquire(dir);
    } catch (error) {
      throw spoolError(`lock spool ${dir}`, error);
    }
    try {
      const loaded = await loadSpool(dir, options.fsync ?? false, () => newSourceId(options.sourcePrefix));
      return new SpoolStore(dir, lock, options, loaded);
    } catch (error) {
      await lock.release().catch(noop);
      throw spoolError(`open spool ${dir}`, error);
    }
  }

  /** The source id this spool's numbering belongs to (PROTOCOL.md §4). */
  get sourceId(): string {
    return this.#meta.state.source;
  }

  get nextSeq(): number {
    return this.#nextSeq;
  }

  get firstSeq(): number {
    return this.#held.first?.seq ?? this.#pending.first?.seq ?? this.#nextSeq;
  }

  get bytes(): number {
    return this.#held.bytes + this.#pending.bytes;
  }

  get batches(): number {
    return this.#held.length + this.#pending.length;
  }

  reserve(count: number): number {
    checkReserveCount(count);
    if (this.#closing !== undefined) throw this.#closedError('reserve');
    const first = this.#nextSeq;
    this.#nextSeq += count;
    if (this.#nextSeq > this.#meta.state.reserved) {
      this.#meta.update({ reserved: this.#nextSeq + (this.#options.reserveBlock ?? DEFAULT_RESERVE_BLOCK) });
      // Started now to save time; an append carrying these numbers waits for it (and sees errors).
      this.#meta.flush().catch(noop);
    }
    return first;
  }

  get maxBody(): number | undefined {
    return this.#meta.state.maxBody;
  }

  rememberMaxBody(maxBody: number): void {
    if (this.#closing !== undefined || this.#meta.state.maxBody === maxBody) return;
    this.#meta.update({ maxBody });
    this.#meta.flush().catch(noop); // a hint for the next run: losing it costs nothing here
  }

  append(batch: Batch): Promise<void> {
    const error =
      this.#closing !== undefined
        ? this.#closedError(`append batch seq=${batch.seq}`)
        : (this.#failure ?? appendError(batch, this, this.#lastAppended));
    if (error !== undefined) {
      // Settle after every append already waiting: callers see outcomes in number order.
      const refused = this.#tail.then(() => Promise.reject(error));
      this.#tail = refused.catch(noop);
      return refused;
    }
    this.#pending.push(batch);
    this.#lastAppended = lastSeq(batch);
    const written = this.#tail.then(() => this.#write(batch));
    this.#tail = written.catch(noop);
    return written;
  }

  /**
   * Forgets batches up to `last` and writes the mark, so a restart does not resend them; segment
   * files all acknowledged are then deleted. Rejects with LW_ERR_SPOOL on a disk error: the
   * caller must handle the promise. After close, only the memory copy changes.
   */
  ack(last: number): Promise<void> {
    if (last <= this.#meta.state.acked) return Promise.resolve();
    this.#held.ackUpTo(last);
    if (this.#closed) return Promise.resolve();
    this.#meta.update({ acked: last });
    return this.#meta.flush().then(
      () => this.#dropAckedSegments(),
      (error: unknown) => {
        throw spoolError(`write the ack mark of spool ${this.dir}`, error);
      },
    );
  }

  unacked(): readonly Batch[] {
    return this.#held.toArray();
  }

  /** Gives the spool a fresh source id (after `sequence_behind`, PROTOCOL.md §4); numbering goes on. */
  async renewSourceId(): Promise<string> {
    this.#meta.update({ source: newSourceId(this.#options.sourcePrefix) });
    try {
      await this.#meta.flush();
    } catch (error) {
      throw spoolError(`write the source id of spool ${this.dir}`, error);
    }
    return this.sourceId;
  }

  /** Waits for pending appends, writes the ack mark, closes files and releases the lock. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #write(batch: Batch): Promise<void> {
    try {
      if (this.#failure !== undefined) throw this.#failure;
      // PROTOCOL.md §3: a number is durable before any record carrying it can be sent.
      if (lastSeq(batch) >= this.#meta.persisted.reserved) await this.#meta.flush();
      const size = ENTRY_HEADER_BYTES + batch.body.length;
      let current = this.#current;
      const limit = this.#options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
      if (current !== undefined && current.segment.size > 0 && current.segment.size + size > limit) {
        await this.#rotate(current);
        current = undefined;
      }
      current ??= await this.#openSegment(batch.seq);
      const { bytesWritten } = await current.handle.writev([entryHeader(batch), batch.body]);
      if (bytesWritten !== size) throw new Error(`short write (${bytesWritten} of ${size} bytes)`);
      if (this.#options.fsync === true) await current.handle.datasync();
      current.segment.size += size;
      current.segment.last = lastSeq(batch);
    } catch (error) {
      // A half-written entry would hide every later one from the next open: stop writing.
      this.#failure ??= spoolError(`write batch seq=${batch.seq} to spool ${this.dir}`, error);
      this.#pending.shift();
      throw this.#failure;
    }
    this.#pending.shift();
    if (lastSeq(batch) > this.#meta.state.acked) this.#held.push(batch);
  }

  async #openSegment(seq: number): Promise<OpenSegment> {
    const path = join(this.dir, segmentName(seq));
    const handle = await open(path, 'a');
    const segment: Segment = { path, last: 0, size: 0 };
    this.#current = { segment, handle };
    if (this.#options.fsync === true) await syncDirectory(this.dir);
    return this.#current;
  }

  async #rotate(current: OpenSegment): Promise<void> {
    this.#current = undefined;
    this.#segments.push(current.segment);
    await current.handle.close();
    await this.#dropAckedSegments();
  }

  /** Deletes the closed segments whose every batch is acknowledged on disk. */
  async #dropAckedSegments(): Promise<void> {
    const acked = this.#meta.persisted.acked;
    const done = this.#segments.filter((segment) => segment.last <= acked);
    if (done.length === 0) return;
    this.#segments = this.#segments.filter((segment) => segment.last > acked);
    try {
      await Promise.all(done.map((segment) => unlink(segment.path).catch(ignoreMissing)));
    } catch (error) {
      throw spoolError(`delete acknowledged segments of spool ${this.dir}`, error);
    }
  }

  async #close(): Promise<void> {
    await this.#tail;
    const errors: unknown[] = [];
    // A clean close gives back the unused rest of the reserved block: the next run numbers
    // on from here, and the collector sees no gap (only a crash may skip numbers, §3).
    this.#meta.update({ reserved: this.#nextSeq });
    await this.#meta.flush().catch((error: unknown) => errors.push(error));
    // From here an ack changes only memory: the lock is about to go to whoever opens next.
    this.#closed = true;
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined) {
      this.#segments.push(current.segment);
      await current.handle.close().catch((error: unknown) => errors.push(error));
    }
    if (errors.length === 0) await this.#dropAckedSegments().catch((error: unknown) => errors.push(error));
    await this.#lock.release().catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw spoolError(`close spool ${this.dir}`, errors[0]);
  }

  #closedError(doing: string): LogwireError {
    return new LogwireError('LW_ERR_CLOSED', `cannot ${doing}: spool ${this.dir} is closed`);
  }
}
