import { StateMachine } from '../state-machine.js';

/**
 * The sender's session (PROTOCOL.md §4), one state changed by named transitions; the link below
 * it has its own (client-state.ts).
 *
 *                     name               register           ready
 *   awaiting-service ─────▶ lost ─────────────▶ registering ──────▶ ready ◀──┐
 *                            ▲                       │ pause          │ pause │ unpause
 *                            │                       └──────▶ paused ◀┘───────┘
 *                            └──── lose (registering, ready, paused) ────┘
 *   stop: any state but stopped ──▶ stopped
 *
 * `awaiting-service`: the service is not named yet, so no REGISTER can leave (a link may be up
 * already, kept by heartbeats). `lost`: no session, none yet or the last one ended; the next link
 * registers. `registering`: REGISTER sent, or about to be, on a live link. `ready`: READY came and
 * the client reported the link connected: batches go. `paused`: the collector said PAUSE (also
 * right after READY, before the link reports connected); nothing is dropped for it, and it ends
 * with its session.
 */

export type SessionState = 'awaiting-service' | 'lost' | 'registering' | 'ready' | 'paused' | 'stopped';

export const SESSION_TRANSITIONS = {
  name: { from: ['awaiting-service'], to: 'lost' },
  register: { from: ['lost'], to: 'registering' },
  ready: { from: ['registering'], to: 'ready' },
  pause: { from: ['registering', 'ready'], to: 'paused' },
  unpause: { from: ['paused'], to: 'ready' },
  lose: { from: ['registering', 'ready', 'paused'], to: 'lost' },
  stop: { from: ['awaiting-service', 'lost', 'registering', 'ready', 'paused'], to: 'stopped' },
} as const satisfies Record<string, { from: readonly SessionState[]; to: SessionState }>;

export type SessionTransition = keyof typeof SESSION_TRANSITIONS;

export class SessionStateMachine extends StateMachine<SessionState, SessionTransition> {
  constructor(initial: SessionState = 'awaiting-service') {
    super('sender session', SESSION_TRANSITIONS, initial);
  }
}
