/**
 * Backpressure: PAUSE every session when the writer's backlog passes pause_above, UNPAUSE at
 * half. Links that cannot be asked (ndjson), or that ignore PAUSE past twice the limit, are not
 * read until the backlog is below half; and the held budget stops links whose unfinished
 * messages would pass it. Memory stays bounded whatever a peer sends.
 *
 *   backlog:  none ──> limit──▶ ndjson held, PAUSE ──> 2×limit──▶ all held
 *              ▲                     │                              │
 *              └──────── ≤ limit/2 ──┴──────────────────────────────┘
 */

import type { Link } from '../../shared/net/link.js';
import { type Message, message } from '../../shared/protocol/message.js';
import type { CollectorCounters } from '../counters.js';
import { HeldBudget } from '../intake/held-budget.js';
import { ReadGate } from '../intake/read-gate.js';

type Holding = 'all' | 'ndjson' | 'none';

export interface BackpressureDeps {
  /** pause_above, read at each decision (RELOAD). */
  readonly limit: () => number;
  readonly counters: Pick<CollectorCounters, 'pauses'>;
  /** Tells every ready session (PAUSE, UNPAUSE). */
  readonly tellReady: (msg: Message) => void;
  /** The read gate, shared with the parts that hold links for other reasons (rate_limit). */
  readonly gate?: ReadGate;
}

export class Backpressure {
  readonly #deps: BackpressureDeps;
  /** Links are not read while the backlog or the held budget says so (each decides apart). */
  readonly #gate: ReadGate;
  readonly #budget: HeldBudget<Link>;
  readonly #links = new Set<Link>();
  #paused = false;
  #holding: Holding = 'none';

  constructor(deps: BackpressureDeps) {
    this.#deps = deps;
    this.#gate = deps.gate ?? new ReadGate();
    this.#budget = new HeldBudget<Link>({
      limit: deps.limit,
      stop: (link) => this.#gate.hold(link, 'budget'),
      resume: (link) => this.#gate.release(link, 'budget'),
    });
  }

  /** PAUSE was sent and UNPAUSE not yet. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Bytes held for unfinished messages (STATUS `held_bytes`). */
  get heldBytes(): number {
    return this.#budget.heldBytes;
  }

  /** Links not read because of the held budget (STATUS `held_links`). */
  get heldLinks(): number {
    return this.#budget.stoppedCount;
  }

  /**
   * A new link: held at once if the backlog says so. Returns what the link's reader tells the
   * bytes it holds for a message not yet whole.
   */
  admit(link: Link): (bytes: number) => void {
    this.#links.add(link);
    link.once('close', () => {
      this.#links.delete(link);
      this.#budget.remove(link);
      this.#gate.forget(link);
    });
    if (this.#held(link, this.#holding)) this.#gate.hold(link, 'backlog');
    return (bytes) => this.#budget.update(link, bytes);
  }

  /** The writer's backlog is now `bytes` (Writer's onQueued). */
  queued(bytes: number): void {
    const limit = this.#deps.limit();
    if (!this.#paused && bytes > limit) this.#setPaused(true);
    else if (this.#paused && bytes <= limit / 2) this.#setPaused(false);
    const hold = bytes > 2 * limit ? 'all' : this.#paused ? 'ndjson' : 'none';
    if (hold !== this.#holding) this.#setHolding(hold);
    this.#budget.setQueued(bytes);
  }

  #held(link: Link, hold: Holding): boolean {
    return hold === 'all' || (hold === 'ndjson' && link.peer.transport === 'ndjson');
  }

  #setHolding(hold: Holding): void {
    this.#holding = hold;
    for (const link of this.#links) {
      if (this.#held(link, hold)) this.#gate.hold(link, 'backlog');
      else this.#gate.release(link, 'backlog');
    }
  }

  #setPaused(on: boolean): void {
    this.#paused = on;
    if (on) this.#deps.counters.pauses += 1;
    this.#deps.tellReady(message(on ? 'PAUSE' : 'UNPAUSE'));
  }
}
