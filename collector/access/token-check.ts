/**
 * The tokens a listener accepts (`token = "…"` or a list, so one can be rotated in before the
 * old one goes). Compared in constant time: both sides are hashed to SHA-256 digests of equal
 * length and compared with timingSafeEqual, and every accepted token is compared each time, so
 * neither the length nor the position of a match shows in the time taken.
 */

import { createHash, timingSafeEqual } from 'node:crypto';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export class TokenCheck {
  readonly #digests: readonly Buffer[];

  /** No tokens: every peer is accepted (the listener requires none). */
  constructor(tokens: readonly string[] | undefined) {
    this.#digests = (tokens ?? []).map(digest);
  }

  get required(): boolean {
    return this.#digests.length > 0;
  }

  /** Whether `given` (a peer's token, or none) lets it in. */
  accepts(given: string | undefined): boolean {
    if (this.#digests.length === 0) return true;
    const offered = digest(given ?? '');
    let match = false;
    for (const accepted of this.#digests) {
      // No early exit: the time is the same whichever token matched.
      if (timingSafeEqual(offered, accepted)) match = true;
    }
    return match && given !== undefined;
  }
}
