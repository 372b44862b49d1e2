import { type Clock, systemClock, type TimerHandle } from './clock.js';

/**
 * Any number of named one-shot timers on one clock (reconnect, flush, ack timeout, heartbeat),
 * so a connection composes them instead of subclassing per timer (issue #3).
 */
export class Timers {
  readonly #clock: Clock;
  readonly #handles = new Map<string, TimerHandle>();

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  /** Runs `fn` once after `ms`; a pending timer of the same name is cancelled first. */
  set(name: string, ms: number, fn: () => void): void {
    this.clear(name);
    const handle = this.#clock.setTimeout(() => {
      // Forget it before the call, so `fn` may set the same name again and `has` reads false inside.
      if (this.#handles.get(name) === handle) this.#handles.delete(name);
      fn();
    }, ms);
    this.#handles.set(name, handle);
  }

  /** Cancels the named timer; nothing happens when none is pending. */
  clear(name: string): void {
    const handle = this.#handles.get(name);
    if (handle === undefined) return;
    this.#handles.delete(name);
    this.#clock.clearTimeout(handle);
  }

  /** True while the named timer is pending. */
  has(name: string): boolean {
    return this.#handles.has(name);
  }

  /** Cancels every pending timer (on close); the Timers stays usable. */
  clearAll(): void {
    for (const handle of this.#handles.values()) this.#clock.clearTimeout(handle);
    this.#handles.clear();
  }
}
