/**
 * One stream connection's session (PROTOCOL.md §4), server side:
 *
 *   new ──REGISTER ok──▶ registering ──barrier: older session's batches written──▶ ready
 *    │                                                                  │  EVENTS → writer → ACK
 *    └─EVENTS─▶ INVALID not_registered, close          superseded ◀─────┤ (a newer REGISTER won)
 *                                                       draining ◀─────┘ (STOP: no more EVENTS)
 *
 * ACKs are cumulative and coalesced: each commit of the writer answers with the source's mark,
 * sent at most once per turn of the event loop (well within ack_delay).
 */

import type { Messenger } from '../shared/net/messenger.js';
import { getInteger } from '../shared/protocol/accessors.js';
import { type Message, message } from '../shared/protocol/message.js';
import type { CollectorContext, SessionHost } from './session-host.js';
import type { LiveSession } from './status-report.js';
import type { Route } from './write-job.js';

type SessionState = 'new' | 'registering' | 'ready' | 'superseded' | 'draining' | 'closed';

export class Session {
  readonly messenger: Messenger;
  private readonly host: SessionHost;
  state: SessionState = 'new';
  route: Route | undefined;
  private ackDue = 0;
  private ackSent = 0;
  private ackScheduled = false;
  /** Batches handed to the writer and not yet answered. */
  inFlight = 0;
  /** `transport/remote` of the peer, set at REGISTER (STATUS, own log). */
  private peer = '';
  /** When READY was sent and when the last ACK was: undefined until READY. */
  private since: number | undefined;
  private ackedAt = 0;

  constructor(messenger: Messenger, host: SessionHost) {
    this.messenger = messenger;
    this.host = host;
  }

  register(msg: Message, ctx: CollectorContext): void {
    const problem = this.registrationProblem(msg);
    if (problem !== undefined) {
      this.refuse(ctx, problem[0], problem[1]);
      return;
    }
    const source = msg.params.source!;
    const next = getInteger(msg.params, 'next', 'REGISTER');
    const first = msg.params.first === undefined ? next : getInteger(msg.params, 'first', 'REGISTER');
    this.state = 'registering';
    this.peer = `${ctx.peer.transport}/${ctx.peer.remote}`;
    this.route = { source, service: msg.params.service!, host: msg.params.host! };
    // The older session of this source stops here: what it already sent goes on to the writer
    // ahead of the barrier; anything it sends after is not read (the newer session wins).
    const older = this.host.sessions.get(source);
    if (older !== undefined && older !== this) older.supersede();
    this.host.sessions.set(source, this);
    this.host.writer.afterSource(source, () => this.ready(source, next, first));
  }

  /** Why this REGISTER is refused, if it is (§4.2); names and types were checked by definitions. */
  private registrationProblem(msg: Message): ['INVALID' | 'UNAUTHORIZED', string] | undefined {
    const config = this.host.config();
    if (this.state === 'draining') return ['INVALID', 'stopping'];
    if (this.state !== 'new') return ['INVALID', 'already_registered'];
    if (msg.params.version !== '1') return ['INVALID', 'bad_version'];
    if (config.token !== undefined && msg.params.token !== config.token) return ['UNAUTHORIZED', 'bad_token'];
    const next = getInteger(msg.params, 'next', 'REGISTER');
    const first = msg.params.first === undefined ? next : getInteger(msg.params, 'first', 'REGISTER');
    if (first > next) return ['INVALID', 'first_after_next'];
    // Marks only rise: refuse here, before an older live session is ended for nothing (§4.2).
    if (this.host.checkpoint.mark(msg.params.source!) >= next) return ['INVALID', 'sequence_behind'];
    const source = msg.params.source!;
    // A new source's first write evicts the least recently active mark (checkpoint.ts), but never
    // a live session's: refused only when live sessions alone would fill the table.
    const others = this.host.sessions.size - (this.host.sessions.has(source) ? 1 : 0);
    if (!this.host.checkpoint.knows(source) && others >= config.maxSources) {
      return ['INVALID', 'too_many_sources'];
    }
    return undefined;
  }

  private ready(source: string, next: number, first: number): void {
    if (this.state !== 'registering') return;
    const { checkpoint } = this.host;
    const last = checkpoint.mark(source);
    if (last >= next) {
      // §4: a reset numbering or a reused id; resending would look like retransmissions.
      this.host.sessions.delete(source);
      this.refuse(undefined, 'INVALID', 'sequence_behind');
      return;
    }
    // §4: records below `first` were acknowledged by another collector: not a loss.
    if (first - 1 > last) checkpoint.setMark(source, first - 1, Date.now());
    else checkpoint.touch(source); // activity for source_ttl; a source that never wrote gets no mark
    this.state = 'ready';
    this.host.counters.sessions += 1;
    this.ackSent = last;
    this.since = Date.now();
    this.ackedAt = this.since;
    this.host.log.info('session opened', { source, service: this.route!.service, peer: this.peer, last });
    this.messenger.send(message('READY', { version: 1, last, max_body: this.host.config().maxBody }));
    // The output opens while READY is on its way and the first batch comes in.
    this.host.writer.prepare(this.route!);
    if (this.host.paused()) this.messenger.send(message('PAUSE'));
  }

  events(msg: Message, ctx: CollectorContext): void {
    if (this.state === 'new' || this.state === 'registering') {
      // Pipelining EVENTS behind REGISTER before READY breaks §4.3 just the same.
      this.refuse(ctx, 'INVALID', 'not_registered', 'EVENTS');
      return;
    }
    if (this.state !== 'ready') return; // superseded or draining: not read (§4, §5 STOP)
    this.submit(msg, msg.body);
  }

  /** A batch whose body was over max_body: acknowledged, its records counted rejected (§6). */
  discarded(msg: Message, ctx: CollectorContext): void {
    if (this.state === 'new' || this.state === 'registering') {
      this.refuse(ctx, 'INVALID', 'not_registered', 'EVENTS');
      return;
    }
    if (this.state === 'ready') this.submit(msg, undefined);
  }

  private submit(msg: Message, body: Buffer | undefined): void {
    const seq = getInteger(msg.params, 'seq', 'EVENTS');
    const count = getInteger(msg.params, 'count', 'EVENTS');
    if (!Number.isSafeInteger(seq + count - 1)) {
      this.refuse(undefined, 'INVALID', 'bad_seq', 'EVENTS');
      return;
    }
    this.inFlight += 1;
    this.host.counters.batches += 1;
    this.host.writer.submit({
      route: this.route!,
      seq,
      count,
      body,
      mode: 'session',
      done: (mark) => {
        this.inFlight -= 1;
        this.ack(mark);
      },
      fail: () => {
        this.inFlight -= 1;
        this.messenger.destroy();
      },
    });
  }

  private ack(mark: number): void {
    if (mark > this.ackDue) this.ackDue = mark;
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      if (this.ackDue > this.ackSent && !this.messenger.closed) {
        this.ackSent = this.ackDue;
        this.ackedAt = Date.now();
        this.messenger.send(message('ACK', { seq: this.ackDue }));
      }
    });
  }

  /** A newer session of the same source won: stop reading, close once answered. */
  supersede(): void {
    this.state = 'superseded';
    if (this.since !== undefined) this.host.log.info('session superseded', this.logFields());
    if (this.route === undefined) this.messenger.close();
    else this.host.writer.afterSource(this.route.source, () => setImmediate(() => this.messenger.close()));
  }

  /** STOP/QUIT: read no more EVENTS; what was read is still written and acknowledged. */
  drain(): void {
    if (this.state !== 'superseded' && this.state !== 'closed') this.state = 'draining';
  }

  closed(): void {
    const was = this.state;
    this.state = 'closed';
    if (this.since !== undefined && was !== 'closed') {
      this.host.log.info('session closed', { ...this.logFields(), was });
    }
    if (this.route !== undefined && this.host.sessions.get(this.route.source) === this) {
      this.host.sessions.delete(this.route.source);
    }
  }

  /** This session as STATUS lists it, once READY was sent. */
  live(): LiveSession | undefined {
    if (this.since === undefined || this.route === undefined) return undefined;
    const { source, service } = this.route;
    return {
      source,
      service,
      peer: this.peer,
      since: this.since,
      last_ack: this.ackSent,
      acked_at: this.ackedAt,
    };
  }

  private logFields(): Record<string, unknown> {
    return { source: this.route?.source, peer: this.peer, last_ack: this.ackSent };
  }

  private refuse(
    ctx: CollectorContext | undefined,
    command: 'INVALID' | 'UNAUTHORIZED',
    reason: string,
    about = 'REGISTER',
  ): void {
    const reply = message(command, command === 'INVALID' ? { command: about, reason } : { reason });
    if (ctx === undefined) this.messenger.send(reply);
    else ctx.reply(reply);
    this.state = 'closed';
    this.messenger.close();
  }
}
