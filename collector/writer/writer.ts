/**
 * The writer: every accepted batch goes through here, one tick at a time, in arrival order.
 *
 *   submit(job) ─▶ queue ─▶ tick: route (Router) + skip retransmissions, move marks
 *     ─▶ each output stages its part ─▶ declare ─▶ write ─▶ commit: one checkpoint save
 *     (marks + what the outputs noted) ─▶ done(mark) ─▶ ACK
 *
 * One checkpoint per tick is the group commit: ACKs leave only once the marks that cover
 * them are saved, so a restart (even after kill -9) cuts back exactly the unacknowledged tail
 * (docs/collector.md). `afterSource` runs once every batch of one source submitted so far is
 * committed: READY waits on it, so the mark it reports is saved and includes every batch the
 * older session had sent (§4) — and only that source waits, so a stalled writer still lets
 * new sessions register (and hear PAUSE). What a tick writes, and how, is the outputs' business
 * (outputs/output.ts); the writer knows marks, ticks and answers.
 */

import { LogwireError } from '../../shared/errors.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { CheckpointHealth } from '../checkpoint/checkpoint-health.js';
import type { CollectorCounters } from '../counters.js';
import type { RoutedBatch } from '../outputs/output.js';
import type { OutputEntry, Router } from './router.js';
import { gatherInput } from './tick-gather.js';
import { countParts, stageParts, writeStaged } from './tick-parts.js';
import { type CommittedTick, noteArrival, type TickCounts, TickTally } from './tick-tally.js';
import type { BatchJob, Route } from './write-job.js';

/** The marks the writer moves and saves (the checkpoint). */
export type WriterMarks = Pick<Checkpoint, 'mark' | 'setMark' | 'noteGap' | 'noteUdp' | 'save'>;

export interface WriterDeps {
  readonly router: Router;
  readonly checkpoint: WriterMarks;
  readonly counters: CollectorCounters;
  readonly onError: (error: unknown) => void;
  /** Told whenever queued bytes change, for PAUSE/UNPAUSE (backpressure). */
  readonly onQueued?: (bytes: number) => void;
  /**
   * Given each batch body once nothing reads it any more (its tick written, or failed): the
   * frame decoder's pooled copies are written over again (shared/slab-cutter.ts).
   */
  readonly release?: (body: Buffer) => void;
  /** The collector's clock: `date()` dates the paths, rejected lines and marks of a tick. */
  readonly clock?: { date(): number };
  /** Retries saves the state directory refuses, and tells STATUS (checkpoint-health.ts). */
  readonly health?: CheckpointHealth;
  /** Told what each tick did, once it is written and saved (the metrics). */
  readonly onCommitted?: (tick: CommittedTick) => void;
  /** The longest a small tick waits for input still arriving (tick-gather.ts; GATHER_MS). */
  readonly gatherMs?: number;
}

/**
 * Body bytes one tick takes at most (a larger batch goes alone). A backlog is committed in
 * parts, so the ACKs of the first part leave while the rest is written: window-bound clients
 * keep sending instead of waiting for the write of everything they had in flight.
 */
const TICK_BYTES = 1024 * 1024;

/** One tick routed: each output's batches, each batch's mark, and the marks before the tick. */
interface RoutedTick {
  readonly parts: Map<OutputEntry, RoutedBatch[]>;
  readonly marks: Array<[BatchJob, number]>;
  readonly before: Map<string, number>;
}

/**
 * What one tick did to the record counters (tick-tally.ts) is added to CollectorCounters only
 * once the tick is written and saved: a failed tick (a full disk) counts nothing, and its
 * resent records count once. Written and rejected count the required outputs only.
 */
function addCounts(counters: CollectorCounters, tick: TickCounts): void {
  counters.written += tick.written;
  counters.retransmitted += tick.retransmitted;
  counters.gaps += tick.gaps;
  counters.rejected += tick.rejected;
}

export class Writer {
  readonly health: CheckpointHealth;
  private readonly deps: WriterDeps;
  /** Set once a stopping writer gave up a save: nothing more is written (see giveUp). */
  private abandoned: unknown;
  private queue: BatchJob[] = [];
  private running = false;
  /** Batches submitted and batches answered so far; idle() waits for the first to be reached. */
  private submitted = 0;
  private answered = 0;
  /** Bytes read from peers so far, whole messages or not (noteBytesRead). */
  private bytesRead = 0;
  private idleWaiters: Array<{ until: number; resolve: () => void }> = [];
  /** Session batches submitted and not yet answered, per source, and who waits for none. */
  private readonly pending = new Map<string, { batches: number; waiters: Array<() => void> }>();
  queuedBytes = 0;
  /** A tick is asked for with nothing queued (an optional output's retry). */
  private nudged = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** What tick-gather.ts watches to see whether input is still streaming in. */
  private readonly gathering = {
    arrived: () => this.submitted + this.bytesRead,
    queuedBytes: () => this.queuedBytes,
  };

  constructor(deps: WriterDeps) {
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
    noteArrival(job);
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

  /**
   * Told of every read from a peer: a batch spanning several reads is still arriving before it
   * is submitted, and a tick gathered meanwhile waits for it (tick-gather.ts).
   */
  noteBytesRead(bytes: number): void {
    this.bytesRead += bytes;
  }

  /** Readies the output a new session will write to (Router.prepare); never fails. */
  prepare(route: Route): void {
    this.deps.router.prepare(route, this.#date());
  }

  #date(): number {
    return this.deps.clock?.date() ?? Date.now();
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

  /**
   * Runs a tick even with nothing queued, so an optional output's backlog is tried again when
   * no input comes (optional-lane.ts).
   */
  private nudge(): void {
    this.nudged = true;
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.drain());
    }
  }

  /** When an optional output has a backlog, a tick when its retry is due. */
  private scheduleRetry(): void {
    const due = Math.min(
      ...this.deps.router.entries.map((entry) => entry.lane?.retryAt || Number.POSITIVE_INFINITY),
    );
    if (due === Number.POSITIVE_INFINITY || this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.nudge();
      },
      Math.max(0, due - this.#date()),
    );
    this.retryTimer.unref();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 || this.nudged) {
      if (this.queue.length > 0) await gatherInput(this.gathering, this.deps.gatherMs);
      this.nudged = false;
      const batches = this.queue.splice(0, this.queue.length === 0 ? 0 : this.tickLength());
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
    this.scheduleRetry();
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
    const now = this.#date();
    const { checkpoint } = this.deps;
    const tally = new TickTally();
    const { parts, marks, before } = this.route(batches, now, tally);
    const staged = stageParts(parts, this.deps.router.entries, now);
    // Marks moved in memory as batches were routed; they go back if the tick does not go through.
    const restoreMarks = (): void => {
      for (const [source, mark] of before) checkpoint.setMark(source, mark, now);
    };
    try {
      for (const { part } of staged) await part.declare((step) => this.health.untilSaved(step));
    } catch (error) {
      // Given up (stopping) or closed before a byte was written: only the marks go back.
      restoreMarks();
      this.abandon(error);
      throw error;
    }
    let written: Awaited<ReturnType<typeof writeStaged>>;
    try {
      written = await writeStaged(staged, now, this.deps.onError);
    } catch (error) {
      // Nothing of this group is acknowledged: what did land was taken back; marks go back,
      // sessions close, and clients resend.
      restoreMarks();
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
      // marks and what the outputs noted agree with what was written, so whether a last save
      // makes them durable or the next start cuts the declared tail, each record ends up once.
      this.abandon(error);
      throw error;
    }
    countParts(written, (service) => tally.countsOf(service));
    addCounts(this.deps.counters, tally.total());
    // Parts written for good (an optional one that failed was taken back): a relay may send now.
    for (const { part } of written) part.committed?.();
    this.deps.onCommitted?.(tally.committed());
    for (const [job, mark] of marks) job.done(mark);
  }

  /**
   * Routes each batch to its output and skips what its source's mark already covers; marks
   * move in memory as batches are routed, so a later batch of the same source in this group
   * sees the earlier one. They are saved by the commit, before any ACK leaves.
   */
  private route(batches: readonly BatchJob[], now: number, tally: TickTally): RoutedTick {
    const { checkpoint, router } = this.deps;
    const routed: RoutedTick = { parts: new Map(), marks: [], before: new Map() };
    for (const job of batches) {
      const tick = tally.take(job);
      const source = job.route.source;
      if (job.mode === 'session' && !routed.before.has(source))
        routed.before.set(source, checkpoint.mark(source));
      const skip = this.skipped(job, tick);
      if (skip >= job.count && job.mode === 'session') {
        tick.retransmitted += job.count;
        routed.marks.push([job, checkpoint.mark(source)]);
        continue;
      }
      for (const { entry, batch } of router.route(job, skip, now)) {
        const part = routed.parts.get(entry);
        if (part === undefined) routed.parts.set(entry, [batch]);
        else part.push(batch);
      }
      if (job.mode === 'session') {
        tick.retransmitted += skip;
        checkpoint.setMark(source, job.seq + job.count - 1, now);
      } else if (job.mode === 'udp') {
        checkpoint.noteUdp(source, job.seq, job.count, now);
      }
      routed.marks.push([job, checkpoint.mark(source)]);
    }
    return routed;
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
}
