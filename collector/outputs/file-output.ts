/**
 * The file output: records checked (validate), laid out (format.ts) and appended to files
 * under the output directory (OutputSet), rejected records to _rejected.log. Its part of a
 * tick follows the checkpoint's rule (checkpoint/checkpoint.ts):
 *
 *   declare each file's tail ─▶ writev per file ─▶ [fsync] ─▶ note file lengths
 *     (saved with the marks by the writer's commit)   │ failed: cut back to the last save
 */

import { join } from 'node:path';
import { LogwireError } from '../../shared/errors.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { Durability, OutputFormat, Validation } from '../config/config-types.js';
import { checkRecord, scanShape, splitBatch } from '../writer/record-check.js';
import type { BatchJob } from '../writer/write-job.js';
import { FORMATS } from './format.js';
import type { Output, OutputPart, RoutedBatch, SaveStep, TickRecords } from './output.js';
import type { OutputSet } from './output-set.js';
import { formatRejected, REJECTED_PATH } from './rejected-file.js';

export interface FileOutputSettings {
  readonly format: OutputFormat;
  readonly validate: Validation;
  readonly durability: Durability;
}

/** What the file output keeps in the checkpoint: declared tails, and lengths saved with the marks. */
export type FileMarks = Pick<Checkpoint, 'declare' | 'noteOutputs' | 'savedOutput'>;

/** Chunks for each file of one tick, in order. */
type Files = Map<string, Buffer[]>;

export class FileOutput implements Output {
  /** format and validate are live (RELOAD); durability is fixed. */
  settings: FileOutputSettings;
  readonly files: OutputSet;
  readonly #checkpoint: FileMarks;

  /** Where its rejected records go: _rejected.log, or _rejected.<name>.log beside another file output. */
  readonly rejectedPath: string;

  constructor(
    files: OutputSet,
    checkpoint: FileMarks,
    settings: FileOutputSettings,
    rejectedPath = REJECTED_PATH,
  ) {
    this.files = files;
    this.#checkpoint = checkpoint;
    this.settings = settings;
    this.rejectedPath = rejectedPath;
  }

  stage(batches: readonly RoutedBatch[], records: (job: BatchJob) => TickRecords, now: number): OutputPart {
    const files: Files = new Map();
    const add = (path: string, chunks: readonly Buffer[]): void => {
      if (chunks.length === 0) return;
      const list = files.get(path);
      if (list === undefined) files.set(path, [...chunks]);
      else list.push(...chunks);
    };
    for (const batch of batches) {
      const { good, rejected } = this.#accept(batch, now, records(batch.job));
      add(batch.path, good);
      add(this.rejectedPath, rejected);
    }
    return {
      declare: (save) => this.#declare(files, save),
      write: () => this.#write(files),
      undo: () => this.#undo(),
    };
  }

  prepare(path: string): void {
    void this.files.prepare(path);
  }

  reopen(): Promise<void> {
    return this.files.reopenAll();
  }

  close(): Promise<void> {
    return this.files.close();
  }

  async #declare(files: Files, save: SaveStep): Promise<void> {
    if (files.size === 0) return;
    const tail = new Map<string, number>();
    for (const [path, chunks] of files)
      tail.set(
        path,
        chunks.reduce((sum, c) => sum + c.length, 0),
      );
    await save(() => this.#checkpoint.declare(tail));
  }

  async #write(files: Files): Promise<void> {
    // Settle every write before deciding: a failure must not be handled (and files cut back)
    // while another file's write is still landing.
    const paths = [...files.keys()];
    const results = await Promise.allSettled(
      [...files].map(([path, chunks]) => this.files.write(path, chunks)),
    );
    const failed = results.findIndex((result) => result.status === 'rejected');
    if (failed !== -1)
      throw writeError(
        join(this.files.root, paths[failed]!),
        (results[failed] as PromiseRejectedResult).reason,
      );
    if (this.settings.durability === 'fsync') await this.files.fsyncAll();
    this.#checkpoint.noteOutputs(this.files.lengths());
  }

  /** Files that did take their part are cut back to the last checkpoint. */
  async #undo(): Promise<void> {
    const { files } = this;
    await files.cutBack(files.lengths().flatMap((file) => this.#checkpoint.savedOutput(file.path) ?? []));
  }

  /** Splits and checks a batch: chunks for its file, and lines for _rejected.log. */
  #accept(batch: RoutedBatch, now: number, records: TickRecords): { good: Buffer[]; rejected: Buffer[] } {
    const { job, skip, body, count } = batch;
    const source = job.route.source;
    const reject = (reason: string, record: Buffer, lost: number): Buffer => {
      records.rejected += lost;
      return Buffer.from(formatRejected({ time: now, reason, source, record }));
    };
    if (body === undefined) {
      return { good: [], rejected: [reject('body_too_large', Buffer.alloc(0), count - skip)] };
    }
    const format = FORMATS[this.settings.format];
    if (format.verbatim && this.settings.validate === 'shape') {
      // The hot path: one pass, no Buffer per line; undefined sends invalid UTF-8 line by line below.
      const braced = job.braced === true && body === job.body && count === job.count;
      const scan = scanShape(body, count, skip, braced);
      if (scan !== undefined) {
        if (!scan.ok) return { good: [], rejected: [reject(scan.reason, body, count - skip)] };
        records.written += scan.good;
        return { good: scan.chunks, rejected: scan.rejected.map((r) => reject(r.reason, r.line, 1)) };
      }
    }
    const split = splitBatch(body, count);
    if (!split.ok) return { good: [], rejected: [reject(split.reason, body, count - skip)] };
    const lines = skip === 0 ? split.lines : split.lines.slice(skip);
    const rejected: Buffer[] = [];
    const good: Buffer[] = [];
    for (const line of lines) {
      const reason = checkRecord(line, this.settings.validate);
      if (reason === undefined) good.push(line);
      else rejected.push(reject(reason, line, 1));
    }
    const { chunks, unrenderable } = format.render(body, good, job.route, now);
    records.written += good.length - unrenderable.length;
    for (const line of unrenderable) rejected.push(reject('not_an_object', line, 1));
    return { good: chunks, rejected };
  }
}

/** A failed write, named by the file's full path (what an operator looks at) and the system's reason. */
function writeError(path: string, error: unknown): unknown {
  if (error instanceof LogwireError && error.code !== 'LW_ERR_OUTPUT') return error;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const code = (cause as { code?: unknown } | undefined)?.code;
  const why = typeof code === 'string' && !reason.startsWith(code) ? `${code}: ${reason}` : reason;
  return new LogwireError('LW_ERR_OUTPUT', `cannot write ${path}: ${why}`, { cause: error });
}
