import { StateMachine } from '../shared/state-machine.js';

/**
 * The appender's life, one state changed by named transitions:
 *
 *             close (end, destroy)            finish (delivered, or the rest reported)
 *   running ───────────────────────▶ closing ─────────────────────────────────────────▶ closed
 *      │                                │
 *      └──────── exit ──────────────────┴──▶ exiting  (process.exit: the rest reported at once)
 *
 * `closed` and `exiting` have given up on delivery: what is written after goes to fallback,
 * counted. While `exiting` nothing asynchronous may start, only be reported.
 */

export type AppenderState = 'running' | 'closing' | 'closed' | 'exiting';

export const LIFECYCLE_TRANSITIONS = {
  close: { from: ['running'], to: 'closing' },
  finish: { from: ['closing'], to: 'closed' },
  exit: { from: ['running', 'closing'], to: 'exiting' },
} as const satisfies Record<string, { from: readonly AppenderState[]; to: AppenderState }>;

export type LifecycleTransition = keyof typeof LIFECYCLE_TRANSITIONS;

export class AppenderLifecycle extends StateMachine<AppenderState, LifecycleTransition> {
  constructor(initial: AppenderState = 'running') {
    super('appender', LIFECYCLE_TRANSITIONS, initial);
  }

  /** Delivery is no longer waited for: later writes go to fallback. */
  get gaveUp(): boolean {
    return this.state === 'closed' || this.state === 'exiting';
  }

  get exiting(): boolean {
    return this.state === 'exiting';
  }
}
