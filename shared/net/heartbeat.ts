import { type Message, message } from '../protocol/message.js';
import type { Clock } from './clock.js';
import type { Timers } from './timers.js';

/**
 * Dead-peer detection for one link at a time (PROTOCOL.md §4.5, issue #3): after `idle` ms with
 * nothing received, send `ALIVE serial=N`; when nothing at all arrives within `timeout` ms after
 * that, the peer is dead. Any message counts as life. The peer's own ALIVE is answered here, and
 * the ABSOLUTELY replies to our ALIVEs are consumed, so the layer above sees neither.
 *
 *   start ─▶ idle timer ──(quiet ≥ idle)──▶ send ALIVE ─▶ timeout timer ──(no life)──▶ dead()
 *               ▲   └──(life since)── re-armed for the rest       │
 *               └──────────────────────(life seen)────────────────┘
 *
 * Life only stamps the time: the timer is re-armed when it fires, not on every message.
 */

export interface HeartbeatOptions {
  /** ms without anything received before an ALIVE is sent. */
  readonly idle: number;
  /** ms after an ALIVE within which something must arrive. */
  readonly timeout: number;
}

export interface HeartbeatHooks {
  /** Sends at once, past the held queue, the rate limit and a pause. */
  send(msg: Message): void;
  /** The peer stayed silent: tear the link down. */
  dead(): void;
}

/** Name of the heartbeat's timer in the client's Timers. */
export const HEARTBEAT_TIMER = 'heartbeat';

// ALIVEs sent and not yet answered, kept only to recognise their ABSOLUTELY.
const MAX_OUTSTANDING = 8;

export class Heartbeat {
  readonly #options: HeartbeatOptions | undefined;
  readonly #timers: Timers;
  readonly #clock: Clock;
  readonly #hooks: HeartbeatHooks;
  readonly #outstanding = new Set<string>();
  #serial = 0;
  #lastLife = 0;
  #lifeSinceAlive = false;
  #running = false;

  /** Without options it only answers ALIVE and never sends one. */
  constructor(options: HeartbeatOptions | undefined, timers: Timers, clock: Clock, hooks: HeartbeatHooks) {
    this.#options = options;
    this.#timers = timers;
    this.#clock = clock;
    this.#hooks = hooks;
  }

  /** ALIVEs sent so far, over every link. */
  get sent(): number {
    return this.#serial;
  }

  /** Starts watching a new link. */
  start(): void {
    this.stop();
    this.#running = true;
    this.#lastLife = this.#clock.now();
    if (this.#options !== undefined) this.#arm(this.#options.idle);
  }

  stop(): void {
    this.#running = false;
    this.#outstanding.clear();
    this.#timers.clear(HEARTBEAT_TIMER);
  }

  /** Something arrived from the peer (a message, or one whose body was discarded). */
  life(): void {
    this.#lastLife = this.#clock.now();
    this.#lifeSinceAlive = true;
  }

  /**
   * Counts `msg` as life and returns true when it is heartbeat bookkeeping that the layer above
   * must not see: the peer's ALIVE (answered here) or the reply to one of our ALIVEs.
   */
  receive(msg: Message): boolean {
    this.life();
    if (msg.command === 'ALIVE') {
      if (this.#running) this.#hooks.send(message('ABSOLUTELY', { serial: msg.params.serial }));
      return true;
    }
    if (msg.command === 'ABSOLUTELY') {
      const serial = msg.params.serial;
      return serial !== undefined && this.#outstanding.delete(serial);
    }
    return false;
  }

  #arm(ms: number): void {
    this.#timers.set(HEARTBEAT_TIMER, ms, () => this.#check());
  }

  #check(): void {
    if (!this.#running || this.#options === undefined) return;
    const quiet = this.#clock.now() - this.#lastLife;
    if (quiet < this.#options.idle) {
      this.#arm(this.#options.idle - quiet);
      return;
    }
    const serial = String(++this.#serial);
    this.#outstanding.add(serial);
    if (this.#outstanding.size > MAX_OUTSTANDING) {
      const oldest = this.#outstanding.values().next().value;
      if (oldest !== undefined) this.#outstanding.delete(oldest);
    }
    this.#lifeSinceAlive = false;
    this.#hooks.send(message('ALIVE', { serial }));
    if (!this.#running) return;
    this.#timers.set(HEARTBEAT_TIMER, this.#options.timeout, () => this.#expire());
  }

  #expire(): void {
    if (!this.#running) return;
    if (this.#lifeSinceAlive) {
      this.#check();
      return;
    }
    this.stop();
    this.#hooks.dead();
  }
}
