/**
 * An optional output's own backlog: the batches routed to it that it has not written yet. Its
 * part of a tick is written beside the required outputs', but a failure there only fails it:
 * the part is taken back (Output.undo), its batches are copied into the backlog (the writer
 * gives the originals back once the tick is answered), and it retries every RETRY_MS, oldest
 * first, ahead of what arrives meanwhile. While it fails, new batches go straight to the
 * backlog; past `limit` bytes they are dropped and counted (`output_<name>_dropped`).
 *
 * What it guarantees (docs/collector.md): what it wrote is committed with the tick's checkpoint,
 * so it is never written twice; but the clients' ACKs do not wait for it, so its backlog lives
 * in memory only, and a stop or crash loses it: at most once.
 */

import type { RoutedBatch } from '../outputs/output.js';
import type { OutputProgress } from './output-progress.js';

/** How long a failing optional output waits before it tries its backlog again. */
export const RETRY_MS = 1000;

/** The records of a routed batch this output writes. */
function records(batch: RoutedBatch): number {
  return batch.count - batch.skip;
}

function bytes(batch: RoutedBatch): number {
  return batch.body?.length ?? 0;
}

export class OptionalLane {
  readonly progress: OutputProgress;
  readonly #limit: number;
  /** Copied batches, oldest first. */
  #backlog: RoutedBatch[] = [];
  #bytes = 0;
  #retryAt = 0;

  constructor(progress: OutputProgress, limit: number) {
    this.progress = progress;
    this.#limit = limit;
  }

  get waiting(): boolean {
    return this.#backlog.length > 0;
  }

  /** When the backlog is next tried (ms on the writer's clock); 0 when nothing waits. */
  get retryAt(): number {
    return this.waiting ? this.#retryAt : 0;
  }

  /**
   * This tick's batches for the output: the backlog then `fresh`, or nothing (and `fresh`
   * queued) while it fails and its retry is not due.
   */
  take(fresh: readonly RoutedBatch[], now: number): RoutedBatch[] {
    if (this.progress.state === 'failing' && now < this.#retryAt) {
      this.#queue(fresh);
      return [];
    }
    const batches = this.#backlog.length === 0 ? [...fresh] : [...this.#backlog, ...fresh];
    this.#backlog = [];
    this.#bytes = 0;
    this.progress.queued = 0;
    return batches;
  }

  /** Its part failed: everything it took goes back (copied), oldest first; retry later. */
  failed(taken: readonly RoutedBatch[], error: unknown, now: number): void {
    this.progress.failed(error);
    this.#retryAt = now + RETRY_MS;
    this.#queue(taken);
  }

  /**
   * The tick failed for a required output: the clients resend this tick's batches, so only what
   * came from the backlog (`taken` minus `fresh`) goes back.
   */
  putBack(taken: readonly RoutedBatch[], fresh: readonly RoutedBatch[]): void {
    this.#queue(taken.slice(0, taken.length - fresh.length));
  }

  #queue(batches: readonly RoutedBatch[]): void {
    for (const batch of batches) {
      if (this.#bytes + bytes(batch) > this.#limit) {
        this.progress.dropped += records(batch);
        continue;
      }
      this.#backlog.push(copied(batch));
      this.#bytes += bytes(batch);
      this.progress.queued += records(batch);
    }
  }
}

/** The batch with a body of its own (the original is given back to its slab after the tick). */
function copied(batch: RoutedBatch): RoutedBatch {
  if (batch.body === undefined || OWNED.has(batch)) return batch;
  const copy = { ...batch, body: Buffer.from(batch.body) };
  OWNED.add(copy);
  return copy;
}

/** Batches whose body is already the lane's copy. */
const OWNED = new WeakSet<RoutedBatch>();
