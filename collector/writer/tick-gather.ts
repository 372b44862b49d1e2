/**
 * Before a small tick, input still streaming in is given a few more turns of the event loop,
 * so that one tick (one declare, one write per file, one checkpoint save) covers it instead of
 * a tick per socket read. A tick's fixed cost (the journal's two writes, the output's identity
 * check, the save) then spreads over more records.
 *
 *   small tick due ──turn──▶ more input came? ──no──▶ tick
 *         ▲                     │ yes, still small and within GATHER_MS
 *         └─────────────────────┘
 *
 * A lone record waits one turn (no input came), so latency at low rates is unchanged; a
 * stream waits at most GATHER_MS.
 */

import { setImmediate as nextTurn } from 'node:timers/promises';

/** A tick this big goes at once. */
export const GATHER_BYTES = 512 * 1024;

/** The longest a tick waits for input still arriving. */
export const GATHER_MS = 2;

export interface GatherSource {
  /**
   * Grows whenever input comes: jobs submitted, or bytes read of a message not yet whole (a
   * large batch spans several reads, so counting jobs alone would end the gathering mid-batch).
   */
  readonly arrived: () => number;
  /** The bytes queued for the next tick. */
  readonly queuedBytes: () => number;
}

/** Resolves when the tick should go: enough is queued, input paused for a turn, or time is up. */
export async function gatherInput(source: GatherSource, limitMs = GATHER_MS): Promise<void> {
  const started = performance.now();
  let seen = source.arrived();
  while (source.queuedBytes() < GATHER_BYTES && performance.now() - started < limitMs) {
    await nextTurn();
    const now = source.arrived();
    if (now === seen) return;
    seen = now;
  }
}
