import { EventEmitter } from 'node:events';
import { LogwireError } from '../errors.js';
import type { Address } from '../protocol/address.js';
import type { Message } from '../protocol/message.js';
import { type Attempt, asError, formatPeer, newAttempt, settle } from './attempt.js';
import { Backoff } from './backoff.js';
import {
  CLIENT_TIMERS,
  type PermanentClientConfig,
  type PermanentClientOptions,
  parsePermanentClientOptions,
} from './client-options.js';
import { ClientSending } from './client-sending.js';
import {
  type ClientState,
  ClientStateMachine,
  type PermanentClientEvents,
  type StatusAfter,
  type Transition,
} from './client-state.js';
import { Heartbeat } from './heartbeat.js';
import type { Link } from './link.js';
import { Messenger } from './messenger.js';
import type { OutletSource } from './outlet.js';
import { Timers } from './timers.js';

/**
 * A connection that stays up (issue #3 points 4 and 5): connects with a timeout, fails over
 * across addresses, backs off between rounds, holds messages in a bounded queue while it cannot
 * send, detects a dead peer, limits its send rate, and closes without an error, exception or
 * unhandled rejection at any moment. It never throws into its caller and never blocks: every
 * wait is a named timer on the injected clock.
 *
 *   send ─▶ [held queue] ─┐
 *   feed(source) ─────────┴─▶ outlet (connected, not paused, link not full, tokens) ─▶ messenger ─▶ link
 *                                                                                        │
 *   'message' ◀── heartbeat filter (ALIVE answered, our ABSOLUTELYs eaten) ◀─────────────┘
 *
 * Everything a client sends goes through its one outlet (outlet.ts): first what `send` held, then
 * what the layer above feeds it (a sender's window, a record queue), pulled only while the link
 * can take it.
 *
 * A pause belongs to one link (PROTOCOL.md §4.6): each new link starts unpaused.
 */

export type { ConnectFn, Handshake, PermanentClientOptions } from './client-options.js';
export { CLIENT_TIMERS } from './client-options.js';
export type { ClientState, ClientStatus, PermanentClientEvents } from './client-state.js';

export class PermanentClient extends EventEmitter<PermanentClientEvents> {
  /** The client's named timers; add your own (flush, ack timeout) beside them. */
  readonly timers: Timers;
  readonly #config: PermanentClientConfig;
  readonly #machine = new ClientStateMachine('connecting');
  readonly #backoff: Backoff;
  readonly #sending: ClientSending;
  readonly #heartbeat: Heartbeat;
  /** Messengers whose link has not emitted 'close' yet: close() waits for them. */
  readonly #open = new Set<Messenger>();
  #attempt: Attempt | undefined;
  #connectPending = false;
  #index = 0;
  #address: Address;
  #pauseRequested = false;
  #connects = 0;
  #closed: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;

  /** Throws LW_ERR_BAD_OPTION on bad options; connecting starts on the next microtask. */
  constructor(options: PermanentClientOptions) {
    super();
    const config = parsePermanentClientOptions(options);
    this.#config = config;
    this.timers = new Timers(config.clock);
    this.#backoff = new Backoff(config.backoff);
    this.#sending = new ClientSending(config, this.timers, CLIENT_TIMERS.rateLimit, {
      writable: () => this.#machine.state === 'connected',
      drained: () => this.emit('drain'),
    });
    this.#heartbeat = new Heartbeat(config.heartbeat, this.timers, config.clock, {
      send: (msg) => this.#sendControl(msg),
      dead: (silentMs) => this.#onPeerSilent(silentMs),
    });
    this.#address = config.addresses[0]!;
    // Later, so that listeners added right after `new` see the first 'connecting'.
    queueMicrotask(() => this.#connect());
  }

  get state(): ClientState {
    return this.#machine.state;
  }

  /** The messenger of the current link, once it is up (handshake included); else undefined. */
  get messenger(): Messenger | undefined {
    const messenger = this.#attempt?.messenger;
    return messenger !== undefined && !messenger.closed ? messenger : undefined;
  }

  /** The address being tried or in use. */
  get address(): Address {
    return this.#address;
  }

  /** Links that completed their handshake. */
  get connects(): number {
    return this.#connects;
  }

  /** Connects after the first. */
  get reconnects(): number {
    return Math.max(0, this.#connects - 1);
  }

  /** Messages refused by `send` because the queue was full. */
  get dropped(): number {
    return this.#sending.dropped;
  }

  get queuedBytes(): number {
    return this.#sending.heldBytes;
  }

  get queuedMessages(): number {
    return this.#sending.heldMessages;
  }

  /**
   * Sends at once when connected, not paused, the link not full and the rate limit allows;
   * otherwise holds the message, in order. Returns false, keeping nothing, when the held queue
   * is full (counted in `dropped`) or the client is closed. Only a message that cannot be
   * formatted throws (LW_ERR_BAD_PARAM), a bug in the caller.
   */
  send(msg: Message): boolean {
    if (this.#closed !== undefined) return false;
    return this.#sending.send(msg);
  }

  /**
   * Sends from `source` after what `send` holds, whenever the link can take more: the layer above
   * keeps its items until the outlet writes them (a session's window is rewound, not re-queued).
   */
  feed(source: OutletSource): void {
    this.#sending.feed(source);
  }

  /** The source has more to send: sends now if the link, the pause and the rate limit allow. */
  pump(): void {
    this.#sending.pump();
  }

  /**
   * The layer above awaits answers on this link (batches sent, acks due) or has them all: while
   * it does, a peer that says nothing is taken for dead after the heartbeat's `awaiting` spans
   * (a half-open link), not only after the idle ones.
   */
  awaitingReplies(on: boolean): void {
    this.#heartbeat.awaiting(on);
  }

  /** Stops sending from the queue (the peer said PAUSE); heartbeats go on. Ignored unless connected. */
  pause(): void {
    const state = this.#machine.state;
    if (state === 'connected') {
      this.timers.clear(CLIENT_TIMERS.rateLimit);
      this.#go('pause', { state: 'paused' });
    } else if (state === 'connecting' && this.messenger !== undefined) {
      // During the handshake (PAUSE right after READY): applied once connected.
      this.#pauseRequested = true;
    }
  }

  /** Sends what was held again (the peer said UNPAUSE). */
  resume(): void {
    const state = this.#machine.state;
    const messenger = this.#attempt?.messenger;
    if (state === 'paused' && messenger !== undefined) {
      this.#go('resume', { state: 'connected', address: this.#address, messenger });
      if (this.#machine.state === 'connected') this.pump();
    } else if (state === 'connecting') {
      this.#pauseRequested = false;
    }
  }

  /**
   * Stops for good: cancels the timers, aborts a connect or handshake in progress, forgets what
   * is held and closes the link after what was written is flushed. Resolves when the link is
   * closed; every call returns the same promise, and it never rejects.
   */
  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.timers.clearAll();
    this.#heartbeat.stop();
    this.#sending.clear();
    const attempt = this.#attempt;
    attempt?.abort.abort(new LogwireError('LW_ERR_CLOSED', 'the permanent client was closed'));
    for (const messenger of this.#open) {
      // The live link flushes what was written; links already given up on go at once.
      if (attempt !== undefined && messenger === attempt.messenger && !attempt.over) messenger.close();
      else messenger.destroy();
    }
    this.#go('close', { state: 'closed' });
    this.#finishClose();
    return this.#closed;
  }

  // ── connecting ───────────────────────────────────────────────────────────

  #connect(): void {
    if (this.#closed !== undefined) return;
    const address = this.#config.addresses[this.#index]!;
    this.#address = address;
    // The first attempt is 'connecting' since construction; later ones come from 'disconnected'.
    if (this.#machine.state === 'connecting') this.emit('status', { state: 'connecting', address });
    else this.#go('retry', { state: 'connecting', address });
    if (this.#closed !== undefined) return; // a status listener closed the client
    const attempt = newAttempt(address);
    this.#attempt = attempt;
    this.#connectPending = true;
    settle(
      () => this.#config.connect(address, this.#config.connectOptions, attempt.abort.signal),
      (link) => this.#onLink(attempt, link),
      (error) => {
        this.#connectPending = false;
        if (this.#closed !== undefined) this.#finishClose();
        else this.#fail(attempt, error);
      },
    );
  }

  #onLink(attempt: Attempt, link: Link): void {
    this.#connectPending = false;
    const messenger = new Messenger(link, { limits: this.#config.limits });
    attempt.messenger = messenger;
    this.#open.add(messenger);
    messenger.on('message', (msg) => this.#onMessage(attempt, msg));
    messenger.on('discarded', (msg, bytes) => {
      if (attempt.over) return;
      this.#heartbeat.life();
      this.emit('discarded', msg, bytes);
    });
    messenger.on('protocolError', (error) => {
      if (!attempt.over) this.emit('protocolError', error);
    });
    messenger.on('drain', () => this.#onLinkDrain(attempt));
    messenger.once('close', (error) => this.#onLinkClose(attempt, messenger, error));
    if (this.#closed !== undefined || this.#attempt !== attempt) {
      messenger.close();
      return;
    }
    if (link.closed) {
      // Its 'close' may already be past: do not wait for it.
      this.#open.delete(messenger);
      this.#fail(attempt, new LogwireError('LW_ERR_CLOSED', `${formatPeer(link)} closed at once`));
      return;
    }
    this.#sending.attach(messenger);
    this.#pauseRequested = false;
    this.#heartbeat.start();
    const handshake = this.#config.handshake;
    if (handshake === undefined) {
      this.#onReady(attempt);
      return;
    }
    settle(
      () => handshake(messenger, attempt.abort.signal),
      () => this.#onReady(attempt),
      (error) => {
        if (!attempt.over && this.#closed === undefined) this.#fail(attempt, error);
      },
    );
  }

  #onReady(attempt: Attempt): void {
    const messenger = attempt.messenger;
    if (attempt.over || this.#closed !== undefined || messenger === undefined || messenger.closed) return;
    this.#backoff.reset();
    this.#connects += 1;
    this.#go('ready', { state: 'connected', address: attempt.address, messenger });
    if (attempt.over || this.#machine.state !== 'connected') return;
    if (this.#pauseRequested) {
      this.#pauseRequested = false;
      this.#go('pause', { state: 'paused' });
      return;
    }
    this.pump();
  }

  /** A connect, handshake or link during the handshake failed: next address, or wait a step. */
  #fail(attempt: Attempt, error: unknown): void {
    this.#endAttempt(attempt);
    this.#index = (this.#index + 1) % this.#config.addresses.length;
    // Back at the first address: a whole round failed, which costs one backoff step.
    const retryIn = this.#index === 0 ? this.#backoff.next() : 0;
    this.#go('fail', { state: 'disconnected', error: asError(error), retryIn });
    this.#scheduleRetry(retryIn);
  }

  /**
   * An established link went away: start a new round at the first address after a step. A peer
   * that went silent is likely still silent (stopped, or its path black-holed): the next address
   * is tried at once, as after a failed connect, rather than waiting out a handshake with it.
   */
  #lose(attempt: Attempt, error: Error | undefined): void {
    this.#endAttempt(attempt);
    const moveOn = attempt.silent && this.#config.addresses.length > 1;
    this.#index = moveOn ? (this.#index + 1) % this.#config.addresses.length : 0;
    const retryIn = moveOn && this.#index !== 0 ? 0 : this.#backoff.next();
    this.#go(
      'lose',
      error === undefined ? { state: 'disconnected', retryIn } : { state: 'disconnected', error, retryIn },
    );
    this.#scheduleRetry(retryIn);
  }

  #scheduleRetry(retryIn: number): void {
    if (this.#closed !== undefined || this.#machine.state !== 'disconnected') return;
    this.timers.set(CLIENT_TIMERS.reconnect, retryIn, () => this.#connect());
  }

  #endAttempt(attempt: Attempt): void {
    attempt.over = true;
    this.#heartbeat.stop();
    this.#sending.detach();
    this.#pauseRequested = false;
    // Stops a handshake still waiting; the hook's rejection is then ignored.
    attempt.abort.abort(new LogwireError('LW_ERR_CLOSED', 'the link of this attempt is gone'));
    const messenger = attempt.messenger;
    if (messenger !== undefined && !messenger.closed) messenger.destroy();
  }

  #onLinkClose(attempt: Attempt, messenger: Messenger, error: Error | undefined): void {
    this.#open.delete(messenger);
    if (this.#closed !== undefined) {
      this.#finishClose();
      return;
    }
    if (attempt.over || this.#attempt !== attempt) return;
    if (this.#machine.state === 'connecting') {
      this.#fail(
        attempt,
        error ??
          new LogwireError('LW_ERR_CLOSED', `${formatPeer(messenger.link)} closed during the handshake`),
      );
    } else {
      this.#lose(attempt, error);
    }
  }

  #onPeerSilent(silentMs: number): void {
    const attempt = this.#attempt;
    const messenger = attempt?.messenger;
    if (attempt === undefined || attempt.over || messenger === undefined) return;
    attempt.silent = true;
    // The 'close' that follows carries this error into the 'disconnected' status.
    messenger.destroy(
      new LogwireError(
        'LW_ERR_PEER_SILENT',
        `${formatPeer(messenger.link)} sent nothing for ${silentMs} ms, ALIVE unanswered; reconnecting`,
      ),
    );
  }

  #finishClose(): void {
    if (this.#connectPending || this.#open.size > 0) return;
    this.#resolveClosed?.();
    this.#resolveClosed = undefined;
  }

  // ── sending and receiving ────────────────────────────────────────────────

  /** ALIVE and ABSOLUTELY go at once: past the queue, a pause and the rate limit's wait. */
  #sendControl(msg: Message): void {
    const messenger = this.#attempt?.messenger;
    if (messenger === undefined || messenger.closed) return;
    this.#sending.control(messenger, msg);
  }

  #onMessage(attempt: Attempt, msg: Message): void {
    if (attempt.over) return;
    if (this.#heartbeat.receive(msg)) return;
    this.emit('message', msg);
  }

  #onLinkDrain(attempt: Attempt): void {
    if (attempt.over || this.#closed !== undefined) return;
    // The peer's end took our bytes: a stalled peer's buffers fill and this stops (the outlet
    // pumps again on the same 'drain').
    this.#heartbeat.life();
  }

  /** The one place state changes: applies the named transition, then reports it. */
  #go<T extends Transition>(transition: T, status: StatusAfter<T>): void {
    if (this.#machine.apply(transition)) this.emit('status', status);
  }
}
