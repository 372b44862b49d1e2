/**
 * The writer: every accepted batch goes through here, one tick at a time, in arrival order.
 *
 *   submit(job) ─▶ queue ─▶ tick: route + check records ─▶ declare its tail ─▶ writev per file
 *                        ─▶ [fsync] ─▶ checkpoint (marks + file lengths) ─▶ done(mark) ─▶ ACK
 *
 * One checkpoint per tick is the group commit: ACKs leave only once the marks that cover
 * them are saved, so a restart (even after kill -9) cuts back exactly the unacknowledged tail
 * (docs/collector.md). `afterSource` runs once every batch of one source submitted so far is
 * committed: READY waits on it, so the mark it reports is saved and includes every batch the
 * older session had sent (§4) — and only that source waits, so a stalled writer still lets
 * new sessions register (and hear PAUSE).
 */

import { join } from 'node:path';
import { LogwireError } from '../../shared/errors.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { CheckpointHealth } from '../checkpoint/checkpoint-health.js';
import type { Durability, OutputFormat, Validation } from '../config/config-types.js';
import type { CollectorCounters } from '../counters.js';
import { jsonChunks } from '../outputs/json-format.js';
import type { OutputSet } from '../outputs/output-set.js';
import type { PathTemplate } from '../outputs/path-template.js';
import { formatRejected, REJECTED_PATH } from '../outputs/rejected-file.js';
import { formatText } from '../outputs/text-format.js';
import { checkRecord, scanShape, splitBatch } from './record-check.js';
import type { BatchJob, Route } from './write-job.js';

export interface WriterSettings {
  readonly template: PathTemplate;
  readonly format: OutputFormat;
  readonly validate: Validation;
  readonly durability: Durability;
}

export interface WriterDeps {
  readonly outputs: OutputSet;
  readonly checkpoint: Checkpoint;
  readonly counters: CollectorCounters;
  readonly onError: (error: unknown) => void;
  /** Told whenever queued bytes change, for PAUSE/UNPAUSE (backpressure). */
  readonly onQueued?: (bytes: number) => void;
  /**
   * Given each batch body once nothing reads it any more (its tick written, or failed): the
   * frame decoder's pooled copies are written over again (shared/slab-cutter.ts).
   */
  readonly release?: (body: Buffer) => void;
  readonly now?: () => number;
  /** Retries saves the state directory refuses, and tells STATUS (checkpoint-health.ts). */
  readonly health?: CheckpointHealth;
}

/**
 * Body bytes one tick takes at most (a larger batch goes alone). A backlog is committed in
 * parts, so the ACKs of the first part leave while the rest is written: window-bound clients
 * keep sending instead of waiting for the write of everything they had in flight.
 */
const TICK_BYTES = 1024 * 1024;

/**
 * What one tick did to the record counters, added to CollectorCounters only once the tick is
 * written and saved: a failed tick (a full disk) counts nothing, and its resent records count once.
 */
type TickCounts = Pick<CollectorCounters, 'written' | 'retransmitted' | 'gaps' | 'rejected'>;

function addCounts(counters: CollectorCounters, tick: TickCounts): void {
  counters.written += tick.written;
  counters.retransmitted += tick.retransmitted;
  counters.gaps += tick.gaps;
  counters.rejected += tick.rejected;
}

export class Writer {
  settings: WriterSettings;
  readonly health: CheckpointHealth;
  private readonly deps: WriterDeps;
  /** Set once a stopping writer gave up a save: nothing more is written (see giveUp). */
  private abandoned: unknown;
  private queue: BatchJob[] = [];
  private running = false;
  /** Batches submitted and batches answered so far; idle() waits for the first to be reached. */
  private submitted = 0;
  private answered = 0;
  private idleWaiters: Array<{ until: number; resolve: () => void }> = [];
  /** Session batches submitted and not yet answered, per source, and who waits for none. */
  private readonly pending = new Map<string, { batches: number; waiters: Array<() => void> }>();
  queuedBytes = 0;

  constructor(settings: WriterSettings, deps: WriterDeps) {
    this.settings = settings;
    this.deps = deps;
    this.health =
      deps.health ??
      new CheckpointHealth({
        log: { warn: (msg) => deps.onError(new Error(msg)), info: () => undefined },
      });
  }

  /**
   * For a stop: a save the state directory refuses is tried once more, not retried until it
   * goes through. If it still fails, that tick and every later one fail unacknowledged and
   * nothing more is written, so the files end at most one declared tail past the checkpoint:
   * the next start cuts that tail, and the senders resend it.
   */
  giveUp(): void {
    this.health.giveUp();
  }

  submit(job: BatchJob): void {
    this.queue.push(job);
    this.submitted += 1;
    // Only sessions move marks: a forged UDP stream naming a source must not hold its READY.
    if (job.mode === 'session') {
      const entry = this.pending.get(job.route.source);
      if (entry === undefined) this.pending.set(job.route.source, { batches: 1, waiters: [] });
      else entry.batches += 1;
    }
    this.queuedBytes += job.body?.length ?? 0;
    this.deps.onQueued?.(this.queuedBytes);
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.drain());
    }
  }

  /** Opens the output a new session will write to (OutputSet.prepare); never fails. */
  prepare(route: Route): void {
    let path: string;
    try {
      path = this.settings.template.expand(route, (this.deps.now ?? Date.now)());
    } catch {
      return; // the first batch routes to _rejected.log and reports why
    }
    void this.deps.outputs.prepare(path);
  }

  /** Runs `fn` once every batch of `source` submitted so far is committed (at once if none). */
  afterSource(source: string, fn: () => void): void {
    const entry = this.pending.get(source);
    if (entry === undefined) fn();
    else entry.waiters.push(fn);
  }

  /**
   * Resolves once everything submitted before the call is written and answered: not "once the
   * queue is empty", which a steady stream of input would put off forever (LOG, STOP).
   */
  idle(): Promise<void> {
    if (this.answered >= this.submitted) return Promise.resolve();
    const until = this.submitted;
    return new Promise((resolve) => this.idleWaiters.push({ until, resolve }));
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batches = this.queue.splice(0, this.tickLength());
      try {
        if (this.abandoned !== undefined) throw this.abandoned;
        await this.commit(batches);
      } catch (error) {
        // Nothing a peer sends may become an unhandled rejection: fail the tick instead.
        this.deps.onError(error);
        for (const job of batches) job.fail(error);
      }
      for (const job of batches) this.answer(job);
      this.deps.onQueued?.(this.queuedBytes);
    }
    this.running = false;
  }

  /** A job is done with (acknowledged or failed): bookkeeping and whoever waits on it. */
  private answer(job: BatchJob): void {
    this.queuedBytes -= job.body?.length ?? 0;
    if (job.body !== undefined) this.deps.release?.(job.body);
    this.answered += 1;
    if (job.mode === 'session') this.settled(job.route.source);
    if (this.idleWaiters.length > 0) {
      const still: typeof this.idleWaiters = [];
      for (const waiter of this.idleWaiters) {
        if (this.answered >= waiter.until) waiter.resolve();
        else still.push(waiter);
      }
      this.idleWaiters = still;
    }
  }

  /** How many queued batches the next tick takes: at least one, then up to TICK_BYTES. */
  private tickLength(): number {
    let bytes = this.queue[0]?.body?.length ?? 0;
    let n = 1;
    while (n < this.queue.length) {
      bytes += this.queue[n]!.body?.length ?? 0;
      if (bytes > TICK_BYTES) break;
      n += 1;
    }
    return n;
  }

  private settled(source: string): void {
    const entry = this.pending.get(source)!;
    entry.batches -= 1;
    if (entry.batches > 0) return;
    this.pending.delete(source);
    for (const fn of entry.waiters) fn();
  }

  /** Writes one group of batches, saves one checkpoint, then answers each. */
  private async commit(batches: readonly BatchJob[]): Promise<void> {
    const now = (this.deps.now ?? Date.now)();
    const { checkpoint, counters } = this.deps;
    const tick: TickCounts = { written: 0, retransmitted: 0, gaps: 0, rejected: 0 };
    const files = new Map<string, Buffer[]>();
    const marks: Array<[BatchJob, number]> = [];
    const add = (path: string, chunks: readonly Buffer[]): void => {
      if (chunks.length === 0) return;
      const list = files.get(path);
      if (list === undefined) files.set(path, [...chunks]);
      else list.push(...chunks);
    };
    // Marks move in memory as batches are routed, so a later batch of the same source in this
    // group sees the earlier one; they are saved below before any ACK leaves.
    const before = new Map<string, number>();
    for (const job of batches) {
      if (job.mode === 'session' && !before.has(job.route.source)) {
        before.set(job.route.source, checkpoint.mark(job.route.source));
      }
      const path = this.route(job, now);
      if (path === undefined) continue;
      const skip = this.skipped(job, tick);
      if (skip >= job.count && job.mode === 'session') {
        tick.retransmitted += job.count;
        marks.push([job, checkpoint.mark(job.route.source)]);
        continue;
      }
      const { good, rejected } = this.accept(job, skip, now, tick);
      add(path, good);
      add(REJECTED_PATH, rejected);
      if (job.mode === 'session') {
        tick.retransmitted += skip;
        checkpoint.setMark(job.route.source, job.seq + job.count - 1, now);
      } else if (job.mode === 'udp') {
        checkpoint.noteUdp(job.route.source, job.seq, job.count, now);
      }
      marks.push([job, checkpoint.mark(job.route.source)]);
    }
    if (files.size > 0) {
      const tail = new Map<string, number>();
      for (const [path, chunks] of files)
        tail.set(
          path,
          chunks.reduce((sum, c) => sum + c.length, 0),
        );
      try {
        await this.health.untilSaved(() => checkpoint.declare(tail));
      } catch (error) {
        // Given up (stopping) or closed before a byte was written: only the marks go back.
        for (const [source, mark] of before) checkpoint.setMark(source, mark, now);
        this.abandon(error);
        throw error;
      }
    }
    try {
      await this.writeFiles(files);
    } catch (error) {
      // Nothing of this group is acknowledged: files that did take their part are cut back to
      // the last checkpoint, marks go back, sessions close, and clients resend.
      const { outputs } = this.deps;
      await outputs
        .cutBack(outputs.lengths().flatMap((file) => checkpoint.savedOutput(file.path) ?? []))
        .catch((cutError: unknown) => this.deps.onError(cutError));
      for (const [source, mark] of before) checkpoint.setMark(source, mark, now);
      this.deps.onError(error);
      for (const job of batches) job.fail(error);
      this.failQueued(new Set(before.keys()), error);
      return;
    }
    try {
      // Acks wait until the marks that cover them are saved; meanwhile input backs up (PAUSE).
      await this.health.untilSaved(() => checkpoint.save());
    } catch (error) {
      // Given up (stopping) or closed: the tick stays written and staged, unacknowledged. Its
      // marks and lengths agree with the files, so whether a last save makes them durable or
      // the next start cuts the declared tail, each record ends up written once.
      this.abandon(error);
      throw error;
    }
    addCounts(counters, tick);
    for (const [job, mark] of marks) job.done(mark);
  }

  /** After a save given up: no later tick writes a byte (it would land past the declared tail). */
  private abandon(error: unknown): void {
    if (error instanceof LogwireError && error.code === 'LW_ERR_CLOSED') return;
    this.abandoned ??= new LogwireError(
      'LW_ERR_CHECKPOINT',
      `stopping without a saved checkpoint: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }

  /**
   * After a failed tick, later batches of its sources must not be written either: they would
   * move the mark past the records that failed, and READY would tell the client to forget them.
   * Their sessions are closed by the failure; the clients resend everything after READY.
   */
  private failQueued(sources: ReadonlySet<string>, error: unknown): void {
    this.queue = this.queue.filter((job) => {
      if (job.mode !== 'session' || !sources.has(job.route.source)) return true;
      job.fail(error);
      this.answer(job);
      return false;
    });
  }

  /** Records of a session batch at or below the source's mark are retransmissions (§4). */
  private skipped(job: BatchJob, tick: TickCounts): number {
    if (job.mode !== 'session') return 0;
    const mark = this.deps.checkpoint.mark(job.route.source);
    if (job.seq > mark + 1) {
      this.deps.checkpoint.noteGap(job.route.source, job.seq - mark - 1);
      tick.gaps += job.seq - mark - 1;
    }
    return Math.max(0, Math.min(job.count, mark + 1 - job.seq));
  }

  private route(job: BatchJob, now: number): string | undefined {
    try {
      return this.settings.template.expand(job.route, now);
    } catch (error) {
      this.deps.onError(error);
      return REJECTED_PATH;
    }
  }

  /** Splits and checks a batch: chunks for its file, and lines for _rejected.log. */
  private accept(
    job: BatchJob,
    skip: number,
    now: number,
    tick: TickCounts,
  ): { good: Buffer[]; rejected: Buffer[] } {
    const source = job.route.source;
    const reject = (reason: string, record: Buffer, records: number): Buffer => {
      tick.rejected += records;
      return Buffer.from(formatRejected({ time: now, reason, source, record }));
    };
    if (job.body === undefined) {
      return { good: [], rejected: [reject('body_too_large', Buffer.alloc(0), job.count - skip)] };
    }
    if (this.settings.format === 'json' && this.settings.validate === 'shape') {
      // The hot path: one pass, no Buffer per line; undefined sends invalid UTF-8 line by line below.
      const scan = scanShape(job.body, job.count, skip);
      if (scan !== undefined) {
        if (!scan.ok) return { good: [], rejected: [reject(scan.reason, job.body, job.count - skip)] };
        tick.written += scan.good;
        return { good: scan.chunks, rejected: scan.rejected.map((r) => reject(r.reason, r.line, 1)) };
      }
    }
    const split = splitBatch(job.body, job.count);
    if (!split.ok) return { good: [], rejected: [reject(split.reason, job.body, job.count - skip)] };
    const lines = skip === 0 ? split.lines : split.lines.slice(skip);
    const rejected: Buffer[] = [];
    let good: Buffer[] = [];
    for (const line of lines) {
      const reason = checkRecord(line, this.settings.validate);
      if (reason === undefined) good.push(line);
      else rejected.push(reject(reason, line, 1));
    }
    tick.written += good.length;
    if (this.settings.format === 'json') return { good: jsonChunks(job.body, good), rejected };
    good = good.flatMap((line) => {
      const text = formatText(line, job.route.service, job.route.host, now);
      if (text !== undefined) return [Buffer.from(text)];
      tick.written -= 1;
      rejected.push(reject('not_an_object', line, 1));
      return [];
    });
    return { good, rejected };
  }

  private async writeFiles(files: Map<string, Buffer[]>): Promise<void> {
    const { outputs } = this.deps;
    // Settle every write before deciding: a failure must not be handled (and files cut back)
    // while another file's write is still landing.
    const paths = [...files.keys()];
    const results = await Promise.allSettled([...files].map(([path, chunks]) => outputs.write(path, chunks)));
    const failed = results.findIndex((result) => result.status === 'rejected');
    if (failed !== -1)
      throw writeError(join(outputs.root, paths[failed]!), (results[failed] as PromiseRejectedResult).reason);
    if (this.settings.durability === 'fsync') await outputs.fsyncAll();
    this.deps.checkpoint.noteOutputs(outputs.lengths());
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
