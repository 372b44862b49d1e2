/**
 * When the appender batches what pino writes. A small chunk (an in-process logger's line) is
 * batched at once. A large one (pino's worker hands over up to 4 MiB at a time) is batched once
 * the write has returned: the caller is thread-stream, which hands the shared buffer back to
 * pino's main thread only then, so the main thread refills it on the other core while this one
 * batches. 'block' batches at once: it must know whether the queue is full before the write
 * completes.
 *
 *   write ─▶ take ─┬─ small, or 'block' ──────────────▶ push (Batcher)
 *                  └─ large ─▶ deferred ─(microtask, or after the next I/O poll while READY
 *                                        is awaited)─▶ push each ─▶ batched()
 *
 * Deferred chunks are all cut before anything is sent (`batching` is true meanwhile), and each
 * chunk is let go as soon as it is in the batcher's slab: sending allocates (EVENTS, write
 * requests), and a 4 MiB string still alive at a scavenge would be promoted to the old
 * generation and cost the worker mark-compacts (--trace-gc: 3–5 per 1M-record run before, 1 after).
 */

/** Chunks this long are batched once the write has returned. */
export const DEFER_MIN = 64 * 1024;
/** Input taken and not yet batched; past this it is batched at once. */
export const MAX_DEFERRED = 8 * 1024 * 1024;

export interface ChunkIntakeOptions {
  /** Batches one chunk (Batcher.push). */
  readonly push: (chunk: string | Buffer) => void;
  /** The deferred chunks are all batched: send what they made. */
  readonly batched: () => void;
  /** Large chunks may wait (false for the 'block' policy). */
  readonly defer: boolean;
  /**
   * True while a session awaits READY: deferred chunks are then batched after the next I/O poll,
   * so READY is read between pino's chunks rather than after the batching of each.
   */
  readonly awaitingReady: () => boolean;
}

export class ChunkIntake {
  readonly #options: ChunkIntakeOptions;
  #deferred: (string | Buffer)[] = [];
  #deferredLength = 0;
  #batching = false;

  constructor(options: ChunkIntakeOptions) {
    this.#options = options;
  }

  /** Chunks taken and not yet batched. */
  get pending(): boolean {
    return this.#deferred.length > 0;
  }

  /** True while deferred chunks are being batched: their batches are sent by `batched`. */
  get batching(): boolean {
    return this.#batching;
  }

  take(chunk: string | Buffer): void {
    const defer = this.#deferred.length > 0 || (chunk.length >= DEFER_MIN && this.#options.defer);
    if (!defer) {
      this.#options.push(chunk);
      return;
    }
    this.#deferred.push(chunk);
    this.#deferredLength += chunk.length;
    if (this.#deferredLength >= MAX_DEFERRED) this.batchDeferred();
    else if (this.#deferred.length === 1) this.#schedule();
  }

  /** Batches what is deferred now (flush and end come after the input they follow). */
  batchDeferred(): void {
    if (this.#deferred.length === 0) return;
    const chunks = this.#deferred;
    this.#deferred = [];
    this.#deferredLength = 0;
    this.#batching = true;
    try {
      for (let i = 0; i < chunks.length; i++) {
        const chunk = chunks[i]!;
        chunks[i] = '';
        this.#options.push(chunk);
      }
    } finally {
      this.#batching = false;
    }
    this.#options.batched();
  }

  #schedule(): void {
    if (this.#options.awaitingReady()) setImmediate(() => this.batchDeferred());
    else queueMicrotask(() => this.batchDeferred());
  }
}
