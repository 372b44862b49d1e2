import { LogwireError } from '../../shared/errors.js';
import type { OutputFileState } from '../outputs/output-file.js';
import { lookup, mergedKeys } from './checkpoint-layers.js';
import type { StateLock } from './checkpoint-lock.js';
import { type CheckpointOptions, DEFAULT_SOURCE_TTL } from './checkpoint-options.js';
import { type RecoveryReport, recoverState } from './checkpoint-recovery.js';
import {
  type CheckpointDelta,
  type CheckpointStore,
  emptyDelta,
  type OutputMark,
  type SourceMark,
} from './checkpoint-store.js';
import { UdpLossCounter } from './checkpoint-udp.js';
import { SaveQueue } from './save-queue.js';
import { SourceRecency } from './source-recency.js';
import { openStateDir } from './state-dir.js';

export { type CheckpointOptions, DEFAULT_SOURCE_TTL } from './checkpoint-options.js';
export type { RecoveryReport } from './checkpoint-recovery.js';
export type { OutputMark, SourceMark } from './checkpoint-store.js';

/**
 * Exactly-once file output (issue #5, PROTOCOL.md §3–4), even across kill -9.
 *
 * The checkpoint holds, per source, its high-water mark (the highest record number written),
 * when it was last seen and the records it lost in gaps; and per output file (path relative to
 * the output directory) its identity (dev, ino) and its length. The writer works in ticks:
 *
 *   declare the tick's tail (the bytes it will add to each file; one journal line)
 *     ─▶ write every batch of the tick to its files (setMark as each is routed)
 *     ─▶ [durability = fsync: OutputSet.fsyncAll()]
 *     ─▶ noteOutputs(OutputSet.lengths()) ─▶ save(): one group commit for all sources and files
 *     ─▶ only then the ACKs (and READY's `last`, which reads the marks)
 *
 * Invariant: for every output F the checkpoint names with identity (dev, ino) and length L,
 * the bytes of F below L hold only records at or below the checkpointed marks, each once, and
 * every byte at or past L was written after that checkpoint, and at most the declared tail of
 * the write under way. Hence, after a crash, `recover()` cuts F back to L when the file at
 * that path is still (dev, ino) and longer by no more than that tail: what it cuts was never
 * acknowledged (ACKs follow the save) and its marks were never saved, so the clients resend
 * it, and it is written once. A file longer by more was not left so by a crash: recover()
 * refuses to start rather than cut acknowledged records (checkpoint-recovery.ts).
 *
 * Two rules keep the invariant when files change under us:
 * - A new identity is made durable before the first byte goes into it: OutputSet's `onOpen` is
 *   wired to `noteOpened`, which saves (path, dev, ino, length at open) at once when the path's
 *   identity is new — a new service's file, the file logrotate `create`d, one recreated after
 *   deletion. Without this, a crash in the first tick of a new file would keep its records.
 *   The same call notes a file found shorter at open (copytruncate followed by LOG).
 * - A file whose identity changed is never cut: it is not what we wrote.
 *
 * What this cannot cover (docs/collector.md): a kill between logrotate's rename and the next
 * save; records written between copytruncate's copy and its truncate; a crash between a
 * copytruncate and the next open of that file.
 *
 * Marks and lengths are staged by `setMark`/`noteOutputs` and reach the disk only with `save`,
 * never through `noteOpened`'s immediate save: a mark must never be durable before the length
 * of the file holding its records. A tick whose write fails is undone, not saved: its marks are
 * set back and the files it wrote cut back to `savedOutput` (OutputSet.cutBack), so the
 * clients' resends are written once, not next to a copy.
 */

const NOTHING_STAGED: ReadonlyMap<string, null> = new Map();
const NO_TAIL: ReadonlyMap<string, number> = new Map();

export class Checkpoint {
  readonly stateDir: string;
  readonly #options: CheckpointOptions;
  readonly #lock: StateLock;
  readonly #store: CheckpointStore;
  readonly #clock: () => number;
  #ttl: number;
  /** Changes not yet handed to the store. */
  #staged: CheckpointDelta = emptyDelta();
  /** Saves under way, in order (save-queue.ts); their changes are read before the store's. */
  readonly #saves: SaveQueue;
  #closed = false;
  readonly #udp: UdpLossCounter;
  /** The sources with a mark in the merged view, least recently active first. */
  readonly #recency: SourceRecency;
  #evicted = 0;
  /** The tails declared since the last save (every output's part of the tick under way). */
  readonly #declared = new Map<string, number>();

  private constructor(stateDir: string, options: CheckpointOptions, lock: StateLock, store: CheckpointStore) {
    this.stateDir = stateDir;
    this.#options = options;
    this.#lock = lock;
    this.#store = store;
    this.#saves = new SaveQueue((delta) => store.commit(delta));
    this.#clock = options.clock ?? Date.now;
    this.#ttl = options.sourceTtl ?? DEFAULT_SOURCE_TTL;
    this.#udp = new UdpLossCounter(options.maxUdpSources);
    this.#recency = SourceRecency.from(store.state.sources);
  }

  /**
   * Creates the state directory if needed, locks it (LW_ERR_STATE_LOCKED when a live collector
   * holds it) and loads the checkpoint (LW_ERR_CHECKPOINT when damaged). Marks idle longer than
   * `sourceTtl` are forgotten (at the next save). Call `recover()` before the first write.
   */
  static async open(stateDir: string, options: CheckpointOptions): Promise<Checkpoint> {
    const { lock, store } = await openStateDir(stateDir, {
      durability: options.durability ?? 'write',
      ...(options.compactAt === undefined ? {} : { compactAt: options.compactAt }),
    });
    const checkpoint = new Checkpoint(stateDir, options, lock, store);
    checkpoint.forgetIdle();
    return checkpoint;
  }

  /** The high-water mark of `source`: the highest record number written, 0 when unknown. */
  mark(source: string): number {
    return this.source(source)?.last ?? 0;
  }

  source(source: string): SourceMark | undefined {
    return lookup(
      source,
      this.#staged.sources,
      this.#saves.inflight,
      (d) => d.sources,
      this.#store.state.sources,
    );
  }

  /** True when `source` has a mark (a known source does not count against max_sources again). */
  knows(source: string): boolean {
    return this.source(source) !== undefined;
  }

  /** How many sources have a mark (for max_sources and STATUS). */
  sources(): number {
    return this.#recency.size;
  }

  /** Marks evicted to make room for a new source since start (STATUS `sources_evicted`). */
  get evicted(): number {
    return this.#evicted;
  }

  /** Every known source with its mark. */
  *marks(): IterableIterator<[string, SourceMark]> {
    for (const id of this.#keys('sources')) {
      const mark = this.source(id);
      if (mark !== undefined) yield [id, mark];
    }
  }

  /**
   * Stages a new mark once the records up to `last` are written. It may go back only to undo
   * what is staged (a failed tick), never below the mark on disk: that would let a
   * retransmission be written twice. Undoing a new source's first mark (back to 0) forgets it.
   */
  setMark(source: string, last: number, now: number = this.#clock()): void {
    const current = this.source(source);
    const durable = this.#durable(source);
    const floor = durable?.last ?? 0;
    if (!Number.isSafeInteger(last) || last < floor) {
      throw new LogwireError(
        'LW_ERR_CHECKPOINT',
        `the mark of source ${source} cannot go below its saved ${floor} (to ${String(last)})`,
      );
    }
    if (last === 0 && durable === undefined) {
      this.#staged.sources.delete(source);
      this.#recency.forget(source);
      return;
    }
    this.#stage(source, { last, seen: now, lost: current?.lost ?? 0 }, current);
  }

  /** Stages `count` more records lost by `source` in a gap (S > mark + 1, PROTOCOL.md §4). */
  noteGap(source: string, count: number, now: number = this.#clock()): void {
    const current = this.source(source);
    this.#stage(source, { last: current?.last ?? 0, seen: now, lost: (current?.lost ?? 0) + count }, current);
  }

  /**
   * Stages a sign of life (REGISTER) of a source with a mark, so an idle but connected source is
   * not forgotten. A source that never wrote gets no mark: it is not kept past its session.
   */
  touch(source: string, now: number = this.#clock()): void {
    const current = this.source(source);
    if (current === undefined) return;
    this.#stage(source, { last: current.last, seen: now, lost: current.lost }, current);
  }

  /**
   * Notes a UDP batch for the loss counter kept apart from the marks (PROTOCOL.md §7);
   * returns the records this batch shows lost. Not saved: UDP has no acks to protect.
   */
  noteUdp(source: string, seq: number, count: number, _now?: number): number {
    return this.#udp.note(source, seq, count);
  }

  /** Records counted lost over UDP since start. */
  get udpLost(): number {
    return this.#udp.lost;
  }

  output(path: string): OutputMark | undefined {
    return lookup(
      path,
      this.#staged.outputs,
      this.#saves.inflight,
      (d) => d.outputs,
      this.#store.state.outputs,
    );
  }

  /**
   * The output as the last save (or one under way) left it: what a crash now would cut back
   * to. After a failed tick, `OutputSet.cutBack` takes these for the files the tick touched.
   */
  savedOutput(path: string): OutputFileState | undefined {
    const mark = lookup(
      path,
      NOTHING_STAGED,
      this.#saves.inflight,
      (d) => d.outputs,
      this.#store.state.outputs,
    );
    return mark === undefined ? undefined : { path, dev: mark.dev, ino: mark.ino, size: mark.size };
  }

  /** Stages an output's identity and length after a write (what OutputSet.write resolves to). */
  noteOutput(file: OutputFileState, now: number = this.#clock()): void {
    this.#staged.outputs.set(file.path, { dev: file.dev, ino: file.ino, size: file.size, seen: now });
  }

  /** noteOutput for each, in order (OutputSet.lengths(): the latest state of every file written). */
  noteOutputs(files: Iterable<OutputFileState>, now: number = this.#clock()): void {
    for (const file of files) this.noteOutput(file, now);
  }

  /**
   * OutputSet's `onOpen`: when the file at `file.path` is an identity the checkpoint does not
   * hold, or shorter than it holds, saves that identity and length now, with those of files
   * opened meanwhile, before any write into it (see the rules above). Otherwise resolves at once.
   */
  noteOpened(file: OutputFileState, now: number = this.#clock()): Promise<void> {
    const current = this.output(file.path);
    if (
      current !== undefined &&
      current.dev === file.dev &&
      current.ino === file.ino &&
      file.size >= current.size
    ) {
      return Promise.resolve();
    }
    this.#staged.outputs.delete(file.path);
    const opening = this.#saves.opening();
    opening.delta.outputs.set(file.path, { dev: file.dev, ino: file.ino, size: file.size, seen: now });
    return opening.saved;
  }

  /**
   * Declares the tick about to be written: `tail` is the bytes it will add to each file. Must
   * be on disk before the tick's first byte (the writer awaits it); the tick's save clears it.
   */
  declare(tail: ReadonlyMap<string, number>): Promise<void> {
    if (this.#closed) return Promise.reject(new LogwireError('LW_ERR_CLOSED', 'the checkpoint is closed'));
    // Several outputs declare their parts of one tick in turn: each line holds them all.
    for (const [path, bytes] of tail) this.#declared.set(path, (this.#declared.get(path) ?? 0) + bytes);
    const delta = emptyDelta();
    delta.tail = new Map(this.#declared);
    return this.#saves.commit(delta);
  }

  /** True when something is staged. */
  get dirty(): boolean {
    return this.#staged.sources.size > 0 || this.#staged.outputs.size > 0;
  }

  /**
   * The group commit: makes everything staged durable. Resolves once it (and any earlier save)
   * is on disk; only then may the writer send the ACKs. Rejects with LW_ERR_CHECKPOINT, and the
   * changes stay staged for the next save.
   */
  save(): Promise<void> {
    if (this.#closed) return Promise.reject(new LogwireError('LW_ERR_CLOSED', 'the checkpoint is closed'));
    if (!this.dirty) return this.#saves.settled;
    const delta = this.#staged;
    this.#staged = emptyDelta();
    this.#declared.clear();
    // Everything declared is now written and being saved: no tail is in flight any more.
    delta.tail = NO_TAIL;
    return this.#saves.commit(delta).catch((error: unknown) => {
      // Put back what no later change has replaced, so the next save carries it.
      for (const [k, v] of delta.sources) if (!this.#staged.sources.has(k)) this.#staged.sources.set(k, v);
      for (const [k, v] of delta.outputs) if (!this.#staged.outputs.has(k)) this.#staged.outputs.set(k, v);
      throw error;
    });
  }

  /** A new `sourceTtl` (RELOAD), used by the next forgetIdle. */
  setSourceTtl(ms: number): void {
    this.#ttl = ms;
  }

  /**
   * Stages forgetting sources and outputs idle longer than `sourceTtl`, and marks that hold
   * nothing (no record written, none lost: left by registrations before such marks were no
   * longer kept); returns how many.
   */
  forgetIdle(now: number = this.#clock()): number {
    const before = now - this.#ttl;
    let forgotten = 0;
    for (const [id, mark] of [...this.marks()]) {
      if (mark.seen < before || (mark.last === 0 && mark.lost === 0)) {
        this.#staged.sources.set(id, null);
        this.#recency.forget(id);
        forgotten++;
      }
    }
    for (const path of [...this.#keys('outputs')]) {
      const mark = this.output(path);
      if (mark !== undefined && mark.seen < before) {
        this.#staged.outputs.set(path, null);
        forgotten++;
      }
    }
    return forgotten;
  }

  /**
   * After a crash: cuts every output back to its checkpointed length when it is still the same
   * file and longer by at most the declared tail (see the invariant), notes shorter ones,
   * forgets replaced and missing ones, and saves. Run once, after open and before the first
   * write. Refuses (LW_ERR_CHECKPOINT, nothing cut) when an output is longer by more, or when
   * the checkpoint is empty beside outputs holding records, unless `acceptOutputs`.
   */
  async recover(outputDir: string | undefined = this.#options.outputDir): Promise<RecoveryReport> {
    if (outputDir === undefined)
      throw new LogwireError('LW_ERR_CHECKPOINT', 'recover() needs the output directory');
    const outputs: [string, OutputMark][] = [];
    for (const path of this.#keys('outputs')) {
      const mark = this.output(path);
      if (mark !== undefined) outputs.push([path, mark]);
    }
    const { report, updates } = await recoverState(this.stateDir, outputDir, outputs, {
      foundEmpty: this.#store.foundEmpty,
      tail: this.#store.state.tail,
      fsync: this.#options.durability === 'fsync',
      acceptOutputs: this.#options.acceptOutputs === true,
    });
    for (const [path, mark] of updates) this.#staged.outputs.set(path, mark);
    await this.save();
    return report;
  }

  /** Waits for pending saves, then releases the lock. Unsaved staged changes are dropped. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#saves.settled;
    await this.#store.close();
    await this.#lock.release();
  }

  /** The mark on disk or being written: what a crash now would leave. */
  #durable(source: string): SourceMark | undefined {
    return lookup(source, NOTHING_STAGED, this.#saves.inflight, (d) => d.sources, this.#store.state.sources);
  }

  /** Stages `mark`; a source new to the table first makes room for itself. */
  #stage(source: string, mark: SourceMark, current: SourceMark | undefined): void {
    if (current === undefined) this.#makeRoom(source);
    this.#staged.sources.set(source, mark);
    this.#recency.touch(source);
  }

  /** Evicts marks for `newcomer` (SourceRecency.makeRoom); each costs what `evicted` says. */
  #makeRoom(newcomer: string): void {
    const max = this.#options.maxSources?.();
    if (max === undefined) return;
    const inUse = this.#options.inUse ?? (() => false);
    for (const victim of this.#recency.makeRoom(max, (id) => id === newcomer || inUse(id))) {
      this.#staged.sources.set(victim, null);
      this.#evicted += 1;
    }
  }

  /** Keys of the merged view, without those staged or committing to be forgotten. */
  *#keys(kind: 'sources' | 'outputs'): IterableIterator<string> {
    const layers = [this.#staged[kind], ...this.#saves.inflight.map((d) => d[kind]), this.#store.state[kind]];
    const present = (key: string): boolean =>
      (kind === 'sources' ? this.source(key) : this.output(key)) !== undefined;
    yield* mergedKeys(layers, present);
  }
}
