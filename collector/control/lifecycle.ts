/**
 * The collector's life after start: running until STOP/QUIT (or a signal), then the stop
 * sequence once, then stopped (or failed, when the checkpoint could not be saved).
 *
 *   running ──stop()──▶ stopping ──drained, outputs closed, checkpoint saved──▶ stopped
 *                           └──────────── a step failed ─────────────────────▶ failed
 *
 * `done` settles with the last state: resolves at stopped, rejects at failed.
 */

import { LogwireError } from '../../shared/errors.js';
import type { CollectorLog } from '../config/config-types.js';

type LifeState = 'running' | 'stopping' | 'stopped' | 'failed';

/** How long STOP waits for links to flush their last writes (ACKs) before closing listeners. */
const LINK_CLOSE_GRACE_MS = 2000;

/** The parts the stop sequence takes down, in the order it does. */
export interface StopSteps {
  readonly log: CollectorLog;
  readonly onError: (error: unknown) => void;
  /** Periodic chores (forgetting idle marks, the bad-input summary): ended, and flushed. */
  readonly chores: { stop(): void };
  readonly writer: { giveUp(): void; idle(): Promise<void> };
  readonly sessions: { drainAll(): void };
  readonly links: { closeAll(wait: (ms: number) => Promise<void>, graceMs: number): Promise<void> };
  readonly listeners: { close(): Promise<void> };
  /** `/metrics` and `/health`: closed with the listeners. */
  readonly metrics: { close(): Promise<void> };
  readonly output: { close(): Promise<void> };
  readonly checkpoint: { save(): Promise<void>; close(): Promise<void> };
  /** Resolves after `ms` on the collector's clock. */
  readonly wait: (ms: number) => Promise<void>;
}

export class Lifecycle {
  readonly done: Promise<void>;
  readonly #steps: StopSteps;
  #state: LifeState = 'running';
  #stopping: Promise<void> | undefined;
  #settle!: (error: unknown) => void;

  constructor(steps: StopSteps) {
    this.#steps = steps;
    this.done = new Promise<void>((resolve, reject) => {
      this.#settle = (error) => (error === undefined ? resolve() : reject(error));
    });
  }

  get state(): LifeState {
    return this.#state;
  }

  /** STOP/QUIT began (or ended): no new link, no more input taken. */
  get stopping(): boolean {
    return this.#state !== 'running';
  }

  /** Runs the stop sequence once; later calls get the same promise. */
  stop(reason: string): Promise<void> {
    this.#stopping ??= this.#run(reason);
    return this.#stopping;
  }

  async #run(reason: string): Promise<void> {
    const { log, onError, checkpoint } = this.#steps;
    this.#state = 'stopping';
    log.info(`stopping (${reason}): draining`);
    let failure: unknown;
    try {
      await this.#drain();
      log.info('stopped');
    } catch (error) {
      onError(error);
      failure = error;
    } finally {
      await checkpoint.close().catch(onError);
      this.#state = failure === undefined ? 'stopped' : 'failed';
      this.#settle(failure);
    }
  }

  async #drain(): Promise<void> {
    const { chores, writer, sessions, links, listeners, metrics, output, checkpoint, wait } = this.#steps;
    chores.stop();
    // From here new links are refused, sessions read no more EVENTS, and UDP and ndjson input
    // is ignored (stopping). A checkpoint that cannot be saved is tried once more, not waited
    // for: what it would cover stays unacknowledged.
    writer.giveUp();
    sessions.drainAll();
    await writer.idle();
    // Acks go out on the next turn; then every link ends once its queued writes are flushed.
    await new Promise((resolve) => setImmediate(resolve));
    await links.closeAll(wait, LINK_CLOSE_GRACE_MS);
    await listeners.close();
    await metrics.close();
    // A closing ndjson link hands over its last line without LF: write it too.
    await writer.idle();
    await output.close();
    await checkpoint.save().catch((error: unknown) => {
      throw new LogwireError(
        'LW_ERR_CHECKPOINT',
        `stopped without saving the checkpoint (${error instanceof Error ? error.message : String(error)}): ` +
          'what was written since the last save was not acknowledged; its senders resend it, ' +
          'and the next start cuts it back',
        { cause: error },
      );
    });
  }
}
