import { type Message, message } from '../protocol/message.js';
import type { Clock } from './clock.js';
import type { Timers } from './timers.js';

/**
 * Dead-peer detection for one link at a time (PROTOCOL.md §4.5, issue #3): after `idle` ms with
 * nothing received, send `ALIVE serial=N`; when nothing at all arrives within `timeout` ms after
 * that, the peer is dead. Any message counts as life. The peer's own ALIVE is answered here, and
 * the ABSOLUTELY replies to our ALIVEs are consumed, so the layer above sees neither.
 *
 *   stopped ─start─▶ watching ──(quiet ≥ idle)──▶ probing: ALIVE sent ──(no life)──▶ dead()
 *                       ▲   └──(life since)── re-armed for the rest    │
 *                       └─────────────────────(life seen)───────────────┘
 *
 * While the layer above awaits answers (`awaiting(true)`: batches sent, acks due within ms), a
 * link that went half-open (peer stopped, path black-holed, no reset) would otherwise pass for
 * live until the idle span: then the shorter `awaiting` spans apply, counted from when the
 * answers became due. Each link given up that way doubles them for the next (up to the idle
 * spans), until everything awaited is answered: a link too slow to answer in time is not taken
 * for a dead one over and over.
 *
 * Life only stamps the time: the timer is re-armed when it fires, not on every message.
 */

export interface HeartbeatSpans {
  /** ms without anything received before an ALIVE is sent. */
  readonly idle: number;
  /** ms after an ALIVE within which something must arrive. */
  readonly timeout: number;
}

export interface HeartbeatOptions extends HeartbeatSpans {
  /** The spans while answers are awaited; without it, the same as when idle. */
  readonly awaiting?: HeartbeatSpans | undefined;
}

export interface HeartbeatHooks {
  /** Sends at once, past the held queue, the rate limit and a pause. */
  send(msg: Message): void;
  /** The peer stayed silent for `silentMs` (ALIVE included): tear the link down. */
  dead(silentMs: number): void;
}

/** Name of the heartbeat's timer in the client's Timers. */
export const HEARTBEAT_TIMER = 'heartbeat';

// ALIVEs sent and not yet answered, kept only to recognise their ABSOLUTELY.
const MAX_OUTSTANDING = 8;

type Phase = 'stopped' | 'watching' | 'probing';

export class Heartbeat {
  readonly #options: HeartbeatOptions | undefined;
  readonly #timers: Timers;
  readonly #clock: Clock;
  readonly #hooks: HeartbeatHooks;
  readonly #outstanding = new Set<string>();
  #serial = 0;
  #lastLife = 0;
  #lifeSinceAlive = false;
  #phase: Phase = 'stopped';
  /** When the answers now awaited became due; undefined when none are. */
  #awaitingSince: number | undefined;
  /** Links given up on while answers were awaited, since everything awaited was last answered. */
  #strikes = 0;

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

  /** Starts watching a new link: nothing is awaited on it yet. */
  start(): void {
    this.stop();
    this.#phase = 'watching';
    this.#lastLife = this.#clock.now();
    this.#awaitingSince = undefined;
    if (this.#options !== undefined) this.#arm(this.#options.idle);
  }

  stop(): void {
    this.#phase = 'stopped';
    this.#outstanding.clear();
    this.#timers.clear(HEARTBEAT_TIMER);
  }

  /** Something arrived from the peer (a message, or one whose body was discarded). */
  life(): void {
    this.#lastLife = this.#clock.now();
    this.#lifeSinceAlive = true;
  }

  /**
   * The layer above now awaits answers (true) or has them all (false). Answers awaited since
   * `awaiting` spans ago with nothing received take the link for dead sooner than idle would.
   */
  awaiting(on: boolean): void {
    if (on === (this.#awaitingSince !== undefined)) return;
    if (!on) {
      this.#awaitingSince = undefined;
      this.#strikes = 0;
      return;
    }
    this.#awaitingSince = this.#clock.now();
    if (this.#phase === 'watching' && this.#options?.awaiting !== undefined) this.#arm(this.#spans().idle);
  }

  /**
   * Counts `msg` as life and returns true when it is heartbeat bookkeeping that the layer above
   * must not see: the peer's ALIVE (answered here) or the reply to one of our ALIVEs.
   */
  receive(msg: Message): boolean {
    this.life();
    if (msg.command === 'ALIVE') {
      if (this.#phase !== 'stopped') this.#hooks.send(message('ABSOLUTELY', { serial: msg.params.serial }));
      return true;
    }
    if (msg.command === 'ABSOLUTELY') {
      const serial = msg.params.serial;
      return serial !== undefined && this.#outstanding.delete(serial);
    }
    return false;
  }

  /** The spans that apply now: the awaiting ones (doubled per strike, up to idle's) or idle's. */
  #spans(): HeartbeatSpans {
    const options = this.#options!;
    const awaiting = options.awaiting;
    if (this.#awaitingSince === undefined || awaiting === undefined) return options;
    const factor = 2 ** Math.min(this.#strikes, 16);
    return {
      idle: Math.min(awaiting.idle * factor, Math.max(options.idle, awaiting.idle)),
      timeout: Math.min(awaiting.timeout * factor, Math.max(options.timeout, awaiting.timeout)),
    };
  }

  #arm(ms: number): void {
    this.#timers.set(HEARTBEAT_TIMER, ms, () => this.#check());
  }

  #check(): void {
    if (this.#phase === 'stopped' || this.#options === undefined) return;
    this.#phase = 'watching';
    const spans = this.#spans();
    // Answers awaited count their silence from when they became due, not from the last life.
    const since = Math.max(this.#lastLife, this.#awaitingSince ?? 0);
    const quiet = this.#clock.now() - since;
    if (quiet < spans.idle) {
      this.#arm(spans.idle - quiet);
      return;
    }
    const serial = String(++this.#serial);
    this.#outstanding.add(serial);
    if (this.#outstanding.size > MAX_OUTSTANDING) {
      const oldest = this.#outstanding.values().next().value;
      if (oldest !== undefined) this.#outstanding.delete(oldest);
    }
    this.#lifeSinceAlive = false;
    this.#phase = 'probing';
    this.#hooks.send(message('ALIVE', { serial }));
    // Sending may have torn the link down (and stopped this) at once.
    if (this.#phase !== 'probing') return;
    this.#timers.set(HEARTBEAT_TIMER, spans.timeout, () => this.#expire());
  }

  #expire(): void {
    if (this.#phase !== 'probing') return;
    if (this.#lifeSinceAlive) {
      this.#check();
      return;
    }
    if (this.#awaitingSince !== undefined) this.#strikes += 1;
    const silentMs = Math.round(this.#clock.now() - Math.max(this.#lastLife, this.#awaitingSince ?? 0));
    this.stop();
    this.#hooks.dead(silentMs);
  }
}
