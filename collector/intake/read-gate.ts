/**
 * Why the collector does not read a link: the writer's backlog (backpressure), the held
 * budget and the link's rate_limit decide apart, and a link is read again only once neither holds it.
 */

import type { Link } from '../../shared/net/link.js';

export type HoldReason = 'backlog' | 'budget' | 'rate';

export class ReadGate {
  readonly #reasons = new Map<Link, Set<HoldReason>>();

  hold(link: Link, reason: HoldReason): void {
    const reasons = this.#reasons.get(link) ?? new Set<HoldReason>();
    if (reasons.size === 0) {
      this.#reasons.set(link, reasons);
      link.pauseReading();
    }
    reasons.add(reason);
  }

  release(link: Link, reason: HoldReason): void {
    const reasons = this.#reasons.get(link);
    if (reasons === undefined || !reasons.delete(reason) || reasons.size > 0) return;
    this.#reasons.delete(link);
    link.resumeReading();
  }

  /** The link is gone. */
  forget(link: Link): void {
    this.#reasons.delete(link);
  }
}
