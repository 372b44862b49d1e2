/**
 * The collector's stream sessions: the live one of each source (a newer REGISTER supersedes the
 * older; the checkpoint never evicts a live source's mark), and every one, registered or not,
 * for STOP to drain and for backpressure to tell PAUSE.
 */

import type { Message } from '../../shared/protocol/message.js';
import type { Session } from './session.js';

export class SessionTable {
  /** The live session of each source; sessions keep it themselves (Session.register/closed). */
  readonly live = new Map<string, Session>();
  readonly #all = new Set<Session>();

  /** A new stream session: counted until its messenger closes. */
  add(session: Session): void {
    this.#all.add(session);
    session.messenger.once('close', () => this.#all.delete(session));
  }

  /** True when `source` has a live session (its mark must not be evicted). */
  isLive(source: string): boolean {
    return this.live.has(source);
  }

  /** Sends `msg` to every live session that is ready (PAUSE, UNPAUSE). */
  tellReady(msg: Message): void {
    for (const session of this.live.values()) {
      if (session.state === 'ready') session.messenger.send(msg);
    }
  }

  /** STOP: every session reads no more EVENTS; what it read is still written and acknowledged. */
  drainAll(): void {
    for (const session of this.#all) session.drain();
  }
}
