/**
 * What happens to each link a listener accepts: refused while stopping; admitted to
 * backpressure; then, by transport, an ndjson intake, or a messenger whose messages go to the
 * dispatcher with a stream session (REGISTER/EVENTS) or, over UDP, none.
 *
 *   link ─▶ ndjson intake ─────────────────────────────▶ writer
 *        └▶ messenger ─message─▶ dispatcher ─▶ session ─▶ writer
 *                     └discarded─▶ checked here (never dispatched) ─▶ session / rejected count
 */

import { type Dispatcher, owedMessage } from '../../shared/dispatcher/dispatcher.js';
import type { Link } from '../../shared/net/link.js';
import { Messenger } from '../../shared/net/messenger.js';
import { parseInteger } from '../../shared/protocol/accessors.js';
import { checkMessage, DEFINITIONS } from '../../shared/protocol/definitions.js';
import type { Message } from '../../shared/protocol/message.js';
import type { ListenerAccess } from '../access/listener-access.js';
import type { TokenCheck } from '../access/token-check.js';
import type { CollectorConfig, ListenerConfig } from '../config/config-types.js';
import type { CollectorCounters } from '../counters.js';
import type { DataSlots } from './data-slots.js';
import type { CollectorContext } from './dispatch-context.js';
import { acceptNdjson, type NdjsonDeps } from './ndjson-intake.js';
import type { PeerLogLimit } from './peer-log-limit.js';
import { Session, type SessionDeps } from './session.js';
import type { SessionTable } from './session-table.js';

export interface LinkAcceptanceDeps {
  readonly config: () => CollectorConfig;
  readonly dispatcher: Pick<Dispatcher<CollectorContext>, 'dispatch' | 'noteSent'>;
  /** Backpressure: holds the link's reading; hears the bytes it holds. */
  readonly admit: (link: Link) => (bytes: number) => void;
  readonly sessions: SessionTable;
  readonly session: SessionDeps;
  readonly ndjson: NdjsonDeps;
  readonly counters: Pick<
    CollectorCounters,
    'connections' | 'protocolErrors' | 'rejected' | 'datagramsDropped'
  >;
  readonly badInputLog: Pick<PeerLogLimit, 'warn'>;
  /** Where a body spanning reads is copied (pooled slabs, given back once written). */
  readonly bodyBuffer: (bytes: number) => Buffer;
  readonly stopping: () => boolean;
  /** Told the bytes read from each admitted link (the metrics). */
  readonly onBytes?: (transport: string, bytes: number) => void;
}

export class LinkAcceptance {
  readonly #deps: LinkAcceptanceDeps;
  readonly #links = new Set<Link>();

  constructor(deps: LinkAcceptanceDeps) {
    this.#deps = deps;
  }

  /** Open links, of every transport (STATUS `links`). */
  get linkCount(): number {
    return this.#links.size;
  }

  /** A listener's new link (Listeners' OnLink). */
  onLink(listener: ListenerConfig, slots: DataSlots, access: ListenerAccess, socketLink: Link): void {
    if (this.#deps.stopping()) {
      socketLink.destroy();
      return;
    }
    // Per-peer limits, the ndjson token gate and the rate limit: the link read from, or refused.
    const link = access.admit(socketLink);
    if (link === undefined) return;
    const { onBytes } = this.#deps;
    if (onBytes !== undefined) link.on('data', (chunk) => onBytes(link.peer.transport, chunk.length));
    this.#links.add(link);
    link.once('close', () => this.#links.delete(link));
    const onHeld = this.#deps.admit(link);
    if (link.peer.transport === 'ndjson') acceptNdjson(link, listener.service, this.#deps.ndjson, onHeld);
    else this.#acceptMessages(link, slots, onHeld, () => access.tokens());
  }

  /**
   * STOP: every link ends once its queued writes are flushed; waits for them at most `graceMs`
   * on `wait` (the collector's clock).
   */
  async closeAll(wait: (ms: number) => Promise<void>, graceMs: number): Promise<void> {
    const ended = [...this.#links].map(
      (link) => new Promise<void>((resolve) => link.once('close', () => resolve())),
    );
    for (const link of this.#links) link.close();
    await Promise.race([Promise.all(ended), wait(graceMs)]);
  }

  #acceptMessages(
    link: Link,
    slots: DataSlots,
    onHeld: (bytes: number) => void,
    tokens: () => TokenCheck,
  ): void {
    const { config, counters, dispatcher } = this.#deps;
    counters.connections += 1;
    const udp = link.peer.transport === 'udp';
    const messenger = new Messenger(link, {
      limits: { maxLine: config().maxLine, maxBody: config().maxBody },
      onSend: (msg) => dispatcher.noteSent(msg),
      replies: !udp,
      bodyBuffer: this.#deps.bodyBuffer,
      onHeld,
    });
    const session = udp ? undefined : new Session(messenger, this.#deps.session, slots);
    if (session !== undefined) this.#deps.sessions.add(session);
    const ctx: CollectorContext = {
      peer: link.peer,
      session,
      tokens,
      reply: udp ? () => {} : (msg) => void messenger.send(msg),
    };
    messenger.on('message', (msg) => {
      session?.heard(msg);
      dispatcher.dispatch(msg, ctx);
    });
    messenger.on('discarded', (msg) => this.#discarded(msg, ctx, session));
    messenger.on('protocolError', (error) => {
      counters.protocolErrors += 1;
      if (udp) counters.datagramsDropped += 1;
      this.#deps.badInputLog.warn(
        link.peer,
        `protocol error from ${link.peer.transport}/${link.peer.remote}: ${error.message}`,
      );
    });
    messenger.once('close', () => session?.closed());
  }

  /** A message whose body was over max_body: never dispatched, so checked here (§6). */
  #discarded(msg: Message, ctx: CollectorContext, session: Session | undefined): void {
    const { counters } = this.#deps;
    // A bad line must not reach the session.
    const invalid = checkMessage(msg, DEFINITIONS);
    if (invalid !== undefined) {
      counters.protocolErrors += 1;
      if (invalid.reply !== undefined) ctx.reply(owedMessage(invalid.reply));
      if (session !== undefined) session.messenger.close();
      return;
    }
    if (session !== undefined && msg.command === 'EVENTS') session.discarded(msg, ctx);
    else counters.rejected += parseInteger(msg.params.count ?? '0') ?? 0;
  }
}
