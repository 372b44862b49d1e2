import { debuglog } from 'node:util';
import { DEFAULT_MAX_BODY } from '../protocol/limits.js';
import { type Batch, batch } from './batch.js';
import type { BatchStore } from './batch-store.js';
import { recut } from './batcher.js';
import type { RecordQueue } from './record-queue.js';
import type { Window } from './window.js';

/**
 * Where records get their numbers (PROTOCOL.md §3): batches leave the record queue, are numbered
 * by the store (`reserve`), held by it (`append`: on disk for a spool) and only then join the
 * window, to be sent. A record is numbered only once it is committed to delivery, so every drop
 * happens before: in the queue, or here for a record alone over the collector's body limit.
 *
 *   record queue ──(may commit?)──▶ reserve ─▶ append ─(held)─▶ window
 *        ▲  └─ over the limit: re-cut (allowed before numbering); a lone giant is dropped
 *        └─ stays, under the queue's overflow policy, while it may not
 *
 * A memory store numbers only while batches may go out now and the window has room, so what is
 * not in flight stays droppable in the queue. A spool numbers at once, whatever the connection,
 * up to its bound: records are on disk before they are sent. A spool that fails to write is
 * said once on stderr; numbering then goes on in memory only.
 */

const debug = debuglog('logwire');

export interface NumberingOptions {
  readonly queue: RecordQueue;
  readonly store: BatchStore;
  readonly window: Window;
  /** The store is a spool: number at once. */
  readonly durable: boolean;
  /** True while batches may go out now (a session is up, not paused). */
  readonly sending: () => boolean;
  /** A record alone over the body limit: dropped before numbering. */
  readonly drop: (record: Buffer) => void;
  /** A batch is held by the store and in the window; `spooled` when it is on disk. */
  readonly held: (numbered: Batch, spooled: boolean) => void;
}

export class Numbering {
  /** The collector's body limit (READY max_body); before any READY, the protocol's default. */
  maxBody = DEFAULT_MAX_BODY;
  readonly #options: NumberingOptions;
  readonly #queue: RecordQueue;
  readonly #store: BatchStore;
  readonly #window: Window;
  #appending = 0;
  #appendingBytes = 0;
  /** Numbered batches whose append has not resolved: at process exit, no callback will run. */
  readonly #inAppend = new Set<Batch>();
  #broken = false;
  #stopped = false;
  #committing = false;
  #again = false;

  /** Batches go to the spool now: a spool was asked for and has not failed. */
  get durable(): boolean {
    return this.#options.durable && !this.#broken;
  }

  constructor(options: NumberingOptions) {
    this.#options = options;
    this.#queue = options.queue;
    this.#store = options.store;
    this.#window = options.window;
    // Until this run's first READY, the limit the last collector gave (kept by a spool).
    this.maxBody = options.store.maxBody ?? DEFAULT_MAX_BODY;
    // A spool left by an earlier run: its batches are numbered and held, ready to resend.
    for (const held of this.#store.unacked()) this.#window.push(held);
  }

  /** Records numbered whose append has not resolved (for a spool: not yet on disk). */
  get appending(): number {
    return this.#appending;
  }

  /** The batches counted by `appending`, oldest first. */
  appendingBatches(): Batch[] {
    return [...this.#inAppend];
  }

  /**
   * Numbers batches from the queue while they may be committed. A call made while one runs (a
   * callback of the queue or the store calling back in) only asks the running one to go on, so
   * numbers always follow the queue's order.
   */
  commit(): void {
    if (this.#committing) {
      this.#again = true;
      return;
    }
    this.#committing = true;
    try {
      do {
        this.#again = false;
        this.#commitSome();
      } while (this.#again);
    } finally {
      this.#committing = false;
    }
  }

  #commitSome(): void {
    for (let pending = this.#queue.peek(); pending !== undefined; pending = this.#queue.peek()) {
      const size = pending.body.length;
      if (size > this.maxBody || size > this.#store.maxBytes) {
        this.#queue.shift();
        this.#recut(pending.body);
        continue;
      }
      if (!this.#mayCommit(size)) return;
      this.#queue.shift();
      const numbered = batch(this.#store.reserve(pending.count), pending.count, pending.body);
      this.#appending += numbered.count;
      this.#appendingBytes += size;
      this.#append(numbered);
    }
  }

  /** Numbers nothing more; appends under way still join the window (for the close report). */
  stop(): void {
    this.#stopped = true;
  }

  #mayCommit(size: number): boolean {
    if (this.#stopped) return false;
    const store = this.#store;
    if (this.#options.durable && !this.#broken) return store.bytes + size <= store.maxBytes;
    if (!this.#options.sending()) return false;
    const held = this.#window.bytes + this.#appendingBytes;
    return held === 0 || held + size <= this.#window.maxBytes;
  }

  /** An unnumbered body over a limit: cut finer, back to the front of the queue. */
  #recut(body: Buffer): void {
    const { batches, oversize } = recut(body, Math.min(this.maxBody, this.#store.maxBytes));
    for (const record of oversize) this.#options.drop(record);
    for (let i = batches.length - 1; i >= 0; i--) this.#queue.unshift(batches[i]!);
  }

  #append(numbered: Batch): void {
    this.#inAppend.add(numbered);
    this.#store.append(numbered).then(
      () => this.#held(numbered, this.#options.durable && !this.#broken),
      (error: unknown) => {
        if (!this.#stopped) this.#onAppendError(numbered, error);
        this.#held(numbered, false);
      },
    );
  }

  #held(numbered: Batch, spooled: boolean): void {
    this.#inAppend.delete(numbered);
    this.#appending -= numbered.count;
    this.#appendingBytes -= numbered.body.length;
    // Kept even when the spool failed: it is numbered, so it must still be sent.
    this.#window.push(numbered);
    this.#options.held(numbered, spooled);
  }

  #onAppendError(numbered: Batch, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    if (!this.#broken) {
      this.#broken = true;
      process.stderr.write(`logwire: the spool failed (${reason}); going on in memory only\n`);
    }
    debug('append seq=%d failed: %s', numbered.seq, reason);
  }
}
