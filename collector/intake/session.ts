/**
 * One stream connection's session (PROTOCOL.md §4), server side:
 *
 *   new ──REGISTER ok──▶ registering ──barrier: older session's batches written──▶ ready
 *    │                                                                  │  EVENTS → writer → ACK
 *    ├─EVENTS─▶ INVALID not_registered, close          superseded ◀─────┤ (a newer REGISTER won)
 *    └─register_timeout─▶ close                           draining ◀─────┘ (STOP: no more EVENTS)
 *
 * A connection in `new` is closed register_timeout after it opened (or after its last control
 * command): idle or trickling peers cannot hold the listener's sockets. An accepted REGISTER
 * takes one of the listener's data slots (DataSlots) until the session ends.
 *
 * ACKs are cumulative and coalesced: each commit of the writer answers with the source's mark.
 * While more batches of this session are still being written, the ACK is held for them, at
 * most `ack_delay` (read live, so RELOAD changes it); once none is left, once it covers
 * ACK_AT_BYTES of bodies, or when the session drains or is superseded, it leaves on the next
 * turn. A held ACK waits for batches already received,
 * never for more input (PROTOCOL.md §4), so a client waiting on its window is answered at once:
 *
 *   none ──commit, nothing more in flight──▶ next_turn ──sent──▶ none
 *     └───commit, more in flight──▶ held ──last one written, or ack_delay──▶ next_turn
 */

import { MAX_TIMER_MS, type TimerHandle } from '../../shared/net/clock.js';
import type { Messenger } from '../../shared/net/messenger.js';
import { getInteger } from '../../shared/protocol/accessors.js';
import { type Message, message } from '../../shared/protocol/message.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { CollectorClock } from '../clock.js';
import type { CollectorConfig, CollectorLog } from '../config/config-types.js';
import { CONTROL_COMMANDS } from '../control/control.js';
import type { LiveSession } from '../control/status-lists.js';
import type { CollectorCounters } from '../counters.js';
import { lastRecordNumber, type Route } from '../writer/write-job.js';
import type { Writer } from '../writer/writer.js';
import type { DataSlots } from './data-slots.js';
import type { CollectorContext, SessionHandle } from './dispatch-context.js';

/**
 * A held ACK that covers this many body bytes leaves without waiting for the rest in flight: a
 * client whose window is full of a bulk stream keeps sending instead of draining it whole
 * before each ACK, and one ACK line per MiB costs nothing.
 */
export const ACK_AT_BYTES = 1024 * 1024;

/** The reason of `INVALID command=EVENTS` when the collector could not write a batch. */
export const WRITE_FAILED = 'write_failed';

/** The keys a session reads, at each use (RELOAD may change them). */
export type SessionSettings = Pick<
  CollectorConfig,
  'registerTimeout' | 'maxSources' | 'maxBody' | 'ackDelay'
>;

/** The live session of each source (SessionTable's map): a newer REGISTER supersedes the older. */
export interface LiveSessions {
  get(source: string): Session | undefined;
  set(source: string, session: Session): void;
  delete(source: string): void;
  has(source: string): boolean;
  readonly size: number;
}

/** What a session needs of the running collector, each part as narrow as its use. */
export interface SessionDeps {
  readonly settings: () => SessionSettings;
  readonly writer: Pick<Writer, 'submit' | 'afterSource' | 'prepare'>;
  readonly marks: Pick<Checkpoint, 'mark' | 'knows' | 'touch' | 'setMark'>;
  readonly live: LiveSessions;
  readonly counters: Pick<CollectorCounters, 'registerTimeouts' | 'sessions' | 'batches' | 'protocolErrors'>;
  /** Backpressure: a session that becomes ready while paused hears PAUSE at once. */
  readonly paused: () => boolean;
  /** Times register_timeout and held ACKs (ack_delay); dates READY and ACKs (STATUS). */
  readonly clock: CollectorClock;
  /** The session opened / superseded / closed lines. */
  readonly log: Pick<CollectorLog, 'info'>;
}

type SessionState = 'new' | 'registering' | 'ready' | 'superseded' | 'draining' | 'closed';
type AckState = 'none' | 'next_turn' | 'held';

export class Session implements SessionHandle {
  readonly messenger: Messenger;
  private readonly deps: SessionDeps;
  private readonly slots: DataSlots;
  /** Gives back the data slot taken by an accepted REGISTER. */
  private giveBackSlot: (() => void) | undefined;
  private registerTimer: TimerHandle | undefined;
  state: SessionState = 'new';
  route: Route | undefined;
  private ackDue = 0;
  private ackSent = 0;
  private ackState: AckState = 'none';
  /** The ack_delay timer of a held ACK. */
  private ackTimer: TimerHandle | undefined;
  /** Batches handed to the writer and not yet answered. */
  inFlight = 0;
  /** Body bytes written since the last ACK left. */
  private ackBytes = 0;
  /** `transport/remote` of the peer, set at REGISTER (STATUS, own log). */
  private peer = '';
  /** When READY was sent and when the last ACK was: undefined until READY. */
  private since: number | undefined;
  private ackedAt = 0;

  constructor(messenger: Messenger, deps: SessionDeps, slots: DataSlots) {
    this.messenger = messenger;
    this.deps = deps;
    this.slots = slots;
    this.armRegisterDeadline();
  }

  /** Every message the peer sent, before dispatch: a control command earns another register_timeout. */
  heard(msg: Message): void {
    if (this.state === 'new' && CONTROL_COMMANDS.has(msg.command)) this.armRegisterDeadline();
  }

  private armRegisterDeadline(): void {
    this.clearRegisterDeadline();
    this.registerTimer = this.deps.clock.setTimeout(() => {
      this.registerTimer = undefined;
      if (this.state !== 'new') return;
      this.deps.counters.registerTimeouts += 1;
      this.state = 'closed';
      this.messenger.close();
    }, this.deps.settings().registerTimeout);
  }

  private clearRegisterDeadline(): void {
    if (this.registerTimer !== undefined) this.deps.clock.clearTimeout(this.registerTimer);
    this.registerTimer = undefined;
  }

  register(msg: Message, ctx: CollectorContext): void {
    const problem = this.registrationProblem(msg, ctx);
    if (problem !== undefined) {
      this.refuse(ctx, problem[0], problem[1]);
      return;
    }
    this.giveBackSlot = this.slots.take();
    if (this.giveBackSlot === undefined) {
      this.refuse(ctx, 'INVALID', 'too_many_connections');
      return;
    }
    this.clearRegisterDeadline();
    const source = msg.params.source!;
    const next = getInteger(msg.params, 'next', 'REGISTER');
    const first = msg.params.first === undefined ? next : getInteger(msg.params, 'first', 'REGISTER');
    this.state = 'registering';
    this.peer = `${ctx.peer.transport}/${ctx.peer.remote}`;
    this.route = { source, service: msg.params.service!, host: msg.params.host! };
    // The older session of this source stops here: what it already sent goes on to the writer
    // ahead of the barrier; anything it sends after is not read (the newer session wins).
    const older = this.deps.live.get(source);
    if (older !== undefined && older !== this) older.supersede();
    this.deps.live.set(source, this);
    this.deps.writer.afterSource(source, () => this.ready(source, next, first));
  }

  /** Why this REGISTER is refused, if it is (§4.2); names and types were checked by definitions. */
  private registrationProblem(
    msg: Message,
    ctx: CollectorContext,
  ): ['INVALID' | 'UNAUTHORIZED', string] | undefined {
    const config = this.deps.settings();
    if (this.state === 'draining') return ['INVALID', 'stopping'];
    if (this.state !== 'new') return ['INVALID', 'already_registered'];
    if (msg.params.version !== '1') return ['INVALID', 'bad_version'];
    if (ctx.tokens?.().accepts(msg.params.token) === false) return ['UNAUTHORIZED', 'bad_token'];
    const next = getInteger(msg.params, 'next', 'REGISTER');
    const first = msg.params.first === undefined ? next : getInteger(msg.params, 'first', 'REGISTER');
    if (first > next) return ['INVALID', 'first_after_next'];
    // Marks only rise: refuse here, before an older live session is ended for nothing (§4.2).
    if (this.deps.marks.mark(msg.params.source!) >= next) return ['INVALID', 'sequence_behind'];
    const source = msg.params.source!;
    // A new source's first write evicts the least recently active mark (checkpoint.ts), but never
    // a live session's: refused only when live sessions alone would fill the table.
    const others = this.deps.live.size - (this.deps.live.has(source) ? 1 : 0);
    if (!this.deps.marks.knows(source) && others >= config.maxSources) {
      return ['INVALID', 'too_many_sources'];
    }
    return undefined;
  }

  private ready(source: string, next: number, first: number): void {
    if (this.state !== 'registering') return;
    const checkpoint = this.deps.marks;
    const last = checkpoint.mark(source);
    if (last >= next) {
      // §4: a reset numbering or a reused id; resending would look like retransmissions.
      this.deps.live.delete(source);
      this.refuse(undefined, 'INVALID', 'sequence_behind');
      return;
    }
    // §4: records below `first` were acknowledged by another collector: not a loss.
    if (first - 1 > last) checkpoint.setMark(source, first - 1);
    else checkpoint.touch(source); // activity for source_ttl; a source that never wrote gets no mark
    this.state = 'ready';
    this.deps.counters.sessions += 1;
    this.ackSent = last;
    this.since = this.deps.clock.date();
    this.ackedAt = this.since;
    this.deps.log.info('session opened', { source, service: this.route!.service, peer: this.peer, last });
    this.messenger.send(message('READY', { version: 1, last, max_body: this.deps.settings().maxBody }));
    // The output opens while READY is on its way and the first batch comes in.
    this.deps.writer.prepare(this.route!);
    if (this.deps.paused()) this.messenger.send(message('PAUSE'));
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
    if (lastRecordNumber(seq, count) === undefined) {
      this.deps.counters.protocolErrors += 1;
      this.refuse(undefined, 'INVALID', 'bad_seq', 'EVENTS');
      return;
    }
    this.inFlight += 1;
    this.deps.counters.batches += 1;
    this.deps.writer.submit({
      route: this.route!,
      seq,
      count,
      body,
      mode: 'session',
      done: (mark) => {
        this.inFlight -= 1;
        this.ackBytes += body?.length ?? 0;
        this.ack(mark);
      },
      fail: () => {
        this.inFlight -= 1;
        this.writeFailed();
      },
    });
  }

  /**
   * The writer could not write a batch: the client is told why before the connection closes, so
   * it reports a collector that cannot write, not one that went away; it resends in a new session.
   */
  private writeFailed(): void {
    if (this.messenger.closed) return;
    this.messenger.send(message('INVALID', { command: 'EVENTS', reason: WRITE_FAILED }));
    this.messenger.close();
  }

  private ack(mark: number): void {
    if (mark > this.ackDue) this.ackDue = mark;
    const delay = Math.min(this.deps.settings().ackDelay, MAX_TIMER_MS);
    const hold = this.inFlight > 0 && this.state === 'ready' && delay > 0 && this.ackBytes < ACK_AT_BYTES;
    if (hold) {
      if (this.ackState !== 'none') return;
      this.ackState = 'held';
      this.ackTimer = this.deps.clock.setTimeout(() => this.releaseAck(), delay);
    } else {
      this.releaseAck();
    }
  }

  /** The ACK goes on the next turn (nothing more in flight, ack_delay reached, STOP, superseded). */
  private releaseAck(): void {
    if (this.ackState === 'next_turn') return;
    if (this.ackTimer !== undefined) this.deps.clock.clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.ackState = 'next_turn';
    setImmediate(() => this.sendAck());
  }

  private sendAck(): void {
    if (this.ackState === 'none') return;
    this.ackState = 'none';
    if (this.ackDue > this.ackSent && !this.messenger.closed) {
      this.ackSent = this.ackDue;
      this.ackBytes = 0;
      this.ackedAt = this.deps.clock.date();
      this.messenger.send(message('ACK', { seq: this.ackDue }));
    }
  }

  /** A newer session of the same source won: stop reading, close once answered. */
  supersede(): void {
    this.state = 'superseded';
    if (this.ackState === 'held') this.releaseAck();
    if (this.since !== undefined) this.deps.log.info('session superseded', this.logFields());
    if (this.route === undefined) this.messenger.close();
    else this.deps.writer.afterSource(this.route.source, () => setImmediate(() => this.messenger.close()));
  }

  /** STOP/QUIT: read no more EVENTS; what was read is still written and acknowledged. */
  drain(): void {
    if (this.state !== 'superseded' && this.state !== 'closed') this.state = 'draining';
    if (this.ackState === 'held') this.releaseAck();
  }

  closed(): void {
    const was = this.state;
    this.state = 'closed';
    this.clearRegisterDeadline();
    this.giveBackSlot?.();
    if (this.ackTimer !== undefined) this.deps.clock.clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.ackState = 'none';
    if (this.since !== undefined && was !== 'closed') {
      this.deps.log.info('session closed', { ...this.logFields(), was });
    }
    if (this.route !== undefined && this.deps.live.get(this.route.source) === this) {
      this.deps.live.delete(this.route.source);
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
    this.clearRegisterDeadline();
    this.giveBackSlot?.();
    this.messenger.close();
  }
}
