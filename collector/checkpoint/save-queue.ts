/**
 * The checkpoint's saves, one after another: each delta is committed once the ones queued
 * before it are, and stays readable (`inflight`) until it is. Files opened one after another
 * join one save (`opening`), so a thousand new files opened in one tick cost one journal line
 * (one fsync with durability = fsync), not a thousand in a row.
 */

import { type CheckpointDelta, emptyDelta } from './checkpoint-store.js';

/** Files opened one after another whose identities go to the disk in one save. */
export interface Opening {
  readonly delta: CheckpointDelta;
  readonly saved: Promise<void>;
}

export class SaveQueue {
  /** Changes being committed, oldest first; read between staged and the store's state. */
  readonly inflight: CheckpointDelta[] = [];
  readonly #commitNow: (delta: CheckpointDelta) => Promise<void>;
  /** The tail of the queue; never rejects. */
  #tail: Promise<void> = Promise.resolve();
  /** The group opened files join, while it is the last save queued and has not started. */
  #opening: Opening | undefined;

  constructor(commitNow: (delta: CheckpointDelta) => Promise<void>) {
    this.#commitNow = commitNow;
  }

  /** Resolves once every save queued so far is done (whether it failed or not). */
  get settled(): Promise<void> {
    return this.#tail;
  }

  /** Queues `delta`'s save; `onStart` runs as it starts (the delta is then no longer changed). */
  commit(delta: CheckpointDelta, onStart?: () => void): Promise<void> {
    // Whatever is queued from now on must follow: an opening group takes no more files.
    this.#opening = undefined;
    this.inflight.push(delta);
    const run = this.#tail
      .then(() => {
        onStart?.();
        return this.#commitNow(delta);
      })
      .finally(() => {
        this.inflight.splice(this.inflight.indexOf(delta), 1);
      });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * The group an opened file joins: files join it until its save starts or anything else is
   * queued behind it, so each identity still reaches the disk after every change queued before
   * it joined, never before.
   */
  opening(): Opening {
    if (this.#opening !== undefined) return this.#opening;
    const delta = emptyDelta();
    const saved = this.commit(delta, () => {
      if (this.#opening === opening) this.#opening = undefined;
    });
    const opening: Opening = { delta, saved };
    this.#opening = opening;
    return opening;
  }
}
