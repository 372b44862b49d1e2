import { EventEmitter } from 'node:events';
import { debuglog } from 'node:util';
import { LogwireError } from '../errors.js';
import type { Messenger } from '../net/messenger.js';
import type { OutletSource } from '../net/outlet.js';
import { type ClientStatus, PermanentClient } from '../net/permanent-client.js';
import { parseInteger } from '../protocol/accessors.js';
import { type Message, message } from '../protocol/message.js';
import { type Batch, lastSeq } from './batch.js';
import type { BatchStore } from './batch-store.js';
import { Numbering } from './numbering.js';
import { type SenderCounters, type SenderEvents, type SenderOptions, zeroCounters } from './sender-types.js';
import { ServiceGate } from './service-gate.js';
import { openSession } from './session-opening.js';
import { type SessionState, SessionStateMachine } from './session-state.js';
import { SourceRenewal } from './source-renewal.js';
import { Window } from './window.js';

/**
 * The client side of a session (PROTOCOL.md §3–4) over a PermanentClient:
 *
 * ```
 *   record queue ──commit: number──▶ store (memory | spool) ──▶ window ──EVENTS──▶ collector
 *   (unnumbered,                      reserve + append            acked|sent|waiting      │
 *    drops happen here)                                  ◀── store.ack(M) ◀── ACK seq=M ◀──┘
 * ```
 *
 * The session's state is one state machine (session-state.ts); batches go out through the
 * client's outlet, which pulls them from the window only while the link can take them.
 *
 * Handshake (the client's hook, before it reports 'connected'): REGISTER, then READY last=L;
 * max_body=B → forget up to L, resend whole every batch ending above L, then new batches
 * pipelined within the window. PAUSE holds (nothing is dropped for it), UNPAUSE goes on, and a
 * pause ends with its session. `sequence_behind` takes a fresh source id and registers again;
 * any other refusal backs off and is counted. No ACK progress for `ackTimeout` while batches are
 * in flight drops the link and reconnects; a half-open link is dropped far sooner, by the
 * client's heartbeat, which is told while acks are awaited.
 *
 * Records get their numbers in numbering.ts: without a spool only while a session is up, not
 * paused and the window has room; with a spool at once, on disk.
 *
 * EVENTS are pulled from the window by the client's outlet, never put in the client's held
 * queue: a held batch would outlive its link and reach the next session before the resends, as
 * a gap.
 */

const debug = debuglog('logwire');

export type { SenderCounters, SenderEvents, SenderOptions } from './sender-types.js';

const TIMER_ACK = 'ack-timeout';
/** EVENTS line allowance in the rate limit's cost of a batch. */
const EVENTS_LINE_BYTES = 64;
const DEFAULT_REGISTER_TIMEOUT = 10_000;

export class Sender extends EventEmitter<SenderEvents> {
  readonly counters: SenderCounters = zeroCounters();
  readonly #options: SenderOptions;
  readonly #store: BatchStore;
  readonly #window: Window;
  #client: PermanentClient | undefined;
  readonly #sourceId: SourceRenewal;
  readonly #service = new ServiceGate();
  readonly #session = new SessionStateMachine();
  /** The link of the session, once the client reported it connected. */
  #messenger: Messenger | undefined;
  /** Last record sent in this session: an ACK above it is clamped to it. */
  #sentTop = 0;
  readonly #numbering: Numbering;
  #lastRefusal: string | undefined;
  /** The collector said it could not write (`INVALID command=EVENTS;reason=write_failed`). */
  #writeFailed = false;
  /** Gives back an acknowledged batch's body (the batcher writes over it). */
  readonly #release: ((numbered: Batch) => void) | undefined;

  constructor(options: SenderOptions) {
    super();
    this.#options = options;
    this.#store = options.store;
    this.#sourceId = new SourceRenewal(options.source, options.renewSource);
    this.#window = new Window(options.window);
    const release = options.release;
    if (release !== undefined) this.#release = (numbered) => release(numbered.body);
    this.#numbering = new Numbering({
      queue: options.queue,
      store: options.store,
      window: this.#window,
      durable: options.durable,
      sending: () => this.sending,
      drop: (record) => this.#dropRecords(record, 1),
      held: (numbered, spooled) => {
        if (spooled) this.counters.spooled += numbered.count;
        this.#afterChange();
      },
    });
  }

  /** The source id in use. */
  get source(): string {
    return this.#sourceId.source;
  }

  get #stopped(): boolean {
    return this.#session.state === 'stopped';
  }

  /** The session's state (session-state.ts). */
  get state(): SessionState {
    return this.#session.state;
  }

  /** True while a session is up and not paused. */
  get sending(): boolean {
    return this.#session.state === 'ready';
  }

  /** A link is up and its session is being opened (REGISTER sent, or about to be): READY is near. */
  get opening(): boolean {
    return this.#session.state === 'registering';
  }

  get paused(): boolean {
    return this.#session.state === 'paused';
  }

  /** A session is up (READY came), paused or not. */
  get connected(): boolean {
    return this.#session.state === 'ready' || this.#session.state === 'paused';
  }

  get reconnects(): number {
    return this.#client?.reconnects ?? 0;
  }

  /** Records numbered and not yet acknowledged. */
  get unacknowledged(): number {
    return this.#window.records + this.#numbering.appending;
  }

  /** Numbered batches held in the window: sent and not yet acknowledged, or waiting to be sent. */
  get unacknowledgedBatches(): number {
    return this.#window.length;
  }

  /** True while records are kept in a working spool (false without one, or once it failed). */
  get durable(): boolean {
    return this.#numbering.durable;
  }

  /** Records numbered and not yet held by the store (for a spool: not yet on disk). */
  get appending(): number {
    return this.#numbering.appending;
  }

  /** The last refusal of REGISTER, for the close report. */
  get lastRefusal(): string | undefined {
    return this.#lastRefusal;
  }

  /** True from the collector's `INVALID command=EVENTS;reason=write_failed` until the next ACK. */
  get collectorWriteFailed(): boolean {
    return this.#writeFailed;
  }

  /** The collector's body limit as the last READY gave it. */
  get maxBody(): number {
    return this.#numbering.maxBody;
  }

  /** Numbered batches not acknowledged, oldest first (at close: report or fallback). */
  unacked(): Batch[] {
    return this.#window.toArray();
  }

  /** Numbered batches not yet held by the store (for a spool: perhaps not on disk), oldest first. */
  appendingBatches(): Batch[] {
    return this.#numbering.appendingBatches();
  }

  /** Connects before the service is known (REGISTER leaves once `start` names it): a first burst
   * then waits one round trip for READY, not a connect as well. */
  connectEarly(): void {
    this.#startClient();
  }

  /** Names the service and starts the sessions (REGISTER waits for the name). */
  start(service: string): void {
    if (this.#stopped || !this.#service.open(service)) return;
    this.#session.apply('name');
    this.#startClient();
    this.wake();
  }

  #startClient(): void {
    if (this.#client !== undefined || this.#stopped) return;
    const rateLimit = this.#options.rateLimit;
    const client = new PermanentClient({
      ...this.#options.client,
      ...(rateLimit === undefined ? {} : { rateLimit }),
      addresses: this.#options.addresses,
      handshake: (messenger, signal) => this.#open(messenger, signal),
    });
    this.#client = client;
    client.feed(this.#windowSource());
    client.on('message', (msg) => this.#onMessage(msg));
    client.on('status', (status) => this.#onStatus(status));
  }

  /** New batches in the record queue: commit and send what may go. */
  wake(): void {
    this.#numbering.commit();
    this.#pump();
  }

  /** Stops for good: closes the client (flushed, then closed) and the store; what is unacknowledged
   * stays readable through `unacked()`, and a spool keeps it on disk. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#lose();
    this.#session.apply('stop');
    this.#numbering.stop();
    const client = this.#client;
    if (client !== undefined) await client.close();
    await this.#store
      .close()
      .catch((error: unknown) => debug('closing the store: %s', (error as Error).message));
  }

  // ── sending ──────────────────────────────────────────────────────────────

  #pump(): void {
    if (this.sending) this.#client?.pump();
  }

  /**
   * What the outlet sends: the window's next batch, whole, while the session takes records. A
   * batch numbered before this collector's max_body was known may be over it: it still goes whole
   * (PROTOCOL.md §3), since the collector takes any numbered body up to 16 MiB.
   */
  #windowSource(): OutletSource {
    return {
      nextCost: () => {
        if (!this.sending || this.#messenger === undefined) return undefined;
        const next = this.#window.next();
        return next === undefined ? undefined : next.body.length + EVENTS_LINE_BYTES;
      },
      writeNext: (messenger) => {
        const next = this.#window.next()!;
        const room = messenger.send(message('EVENTS', { seq: next.seq, count: next.count }, next.body));
        this.#window.markSent();
        this.#sentTop = lastSeq(next);
        this.counters.sent += next.count;
        this.#armAckTimer(false);
        return room;
      },
    };
  }

  #dropRecords(body: Buffer, count: number): void {
    this.counters.dropped += count;
    this.#options.fallback.write(body);
  }

  // ── acknowledgements ─────────────────────────────────────────────────────

  #onAck(seq: number): void {
    const last = Math.min(seq, this.#sentTop);
    if (this.#acknowledge(last) > 0) this.#armAckTimer(true);
    this.#afterChange();
  }

  /** Forgets up to `last` in the window and the store; returns the records acknowledged. */
  #acknowledge(last: number): number {
    const records = this.#window.ack(last, this.#release);
    if (records === 0) return 0;
    this.counters.acknowledged += records;
    const done = this.#store.ack(last);
    if (done instanceof Promise)
      done.catch((error: unknown) => debug('store ack: %s', (error as Error).message));
    return records;
  }

  /**
   * Starts the ack timer when batches are in flight; `progress` restarts it. While they are, the
   * client's heartbeat also watches for a half-open link (acks are due within ms, PROTOCOL.md §4).
   */
  #armAckTimer(progress: boolean): void {
    this.#client?.awaitingReplies(this.#window.inFlight > 0);
    const timers = this.#client?.timers;
    if (timers === undefined || this.#options.ackTimeout === 0) return;
    if (this.#window.inFlight === 0) {
      timers.clear(TIMER_ACK);
      return;
    }
    if (progress || !timers.has(TIMER_ACK))
      timers.set(TIMER_ACK, this.#options.ackTimeout, () => this.#onAckTimeout());
  }

  #onAckTimeout(): void {
    const messenger = this.#messenger;
    if (messenger === undefined || this.#window.inFlight === 0) return;
    this.counters.ackTimeouts += 1;
    messenger.destroy(
      new LogwireError(
        'LW_ERR_ACK_TIMEOUT',
        `${this.#window.inFlight} batches in flight and no ACK for ${this.#options.ackTimeout} ms (ackTimeout); reconnecting`,
      ),
    );
  }

  // ── the session ──────────────────────────────────────────────────────────

  async #open(messenger: Messenger, signal: AbortSignal): Promise<void> {
    const options = this.#options;
    const opened = await openSession(
      messenger,
      {
        service: this.#service,
        sourceId: this.#sourceId,
        store: this.#store,
        host: options.host,
        ...(options.pid === undefined ? {} : { pid: options.pid }),
        ...(options.token === undefined ? {} : { token: options.token }),
        registerTimeout: options.registerTimeout ?? DEFAULT_REGISTER_TIMEOUT,
        timers: this.#client!.timers,
        refused: (refusal) => {
          this.counters.refused += 1;
          this.#lastRefusal = refusal;
        },
        registering: () => this.#session.applyIf('register'),
      },
      signal,
    );
    if (opened.maxBody !== undefined) {
      this.#numbering.maxBody = opened.maxBody;
      this.#store.rememberMaxBody?.(opened.maxBody);
    }
    // Forget what the collector has; everything else is resent whole once 'connected'.
    this.#window.rewind();
    this.#acknowledge(opened.last);
    this.#sentTop = opened.last;
  }

  #onMessage(msg: Message): void {
    switch (msg.command) {
      case 'ACK': {
        const seq = parseInteger(msg.params.seq ?? '');
        if (seq !== undefined && this.connected) {
          this.#writeFailed = false;
          this.#onAck(seq);
        }
        return;
      }
      case 'PAUSE':
        // Also right after READY, before the client reports the link connected.
        this.#session.applyIf('pause');
        this.#client?.pause();
        return;
      case 'UNPAUSE':
        this.#session.applyIf('unpause');
        this.#client?.resume();
        this.wake();
        return;
      case 'INVALID':
        if (msg.params.command === 'EVENTS' && msg.params.reason === 'write_failed') this.#writeFailed = true;
        if (msg.params.command !== 'REGISTER') debug('collector: INVALID %o', msg.params);
        return;
      default:
        debug('ignored %s from the collector', msg.command);
    }
  }

  #onStatus(status: ClientStatus): void {
    if (status.state === 'connected') {
      // Also after each UNPAUSE: the session is new only when its link is.
      this.#session.applyIf('ready');
      this.#messenger = status.messenger;
      this.wake();
    } else if (status.state === 'disconnected' || status.state === 'closed') {
      this.#lose();
    }
    this.emit('status', status);
  }

  /** The session is over: whatever was in flight waits to be resent whole in the next one. */
  #lose(): void {
    this.#session.applyIf('lose');
    this.#messenger = undefined;
    this.#window.rewind();
    this.#client?.timers.clear(TIMER_ACK);
  }

  #afterChange(): void {
    this.#numbering.commit();
    this.#pump();
    this.emit('progress');
  }
}
