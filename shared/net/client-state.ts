import type { ProtocolError } from '../errors.js';
import type { Address } from '../protocol/address.js';
import type { Message } from '../protocol/message.js';
import { StateMachine } from '../state-machine.js';
import type { Messenger } from './messenger.js';

/**
 * The permanent client's one state and its named transitions (STYLE.md "State you can see",
 * issue #3). REGISTER and READY belong to the sender above; here 'connecting' lasts until the
 * handshake hook resolves.
 *
 *              retry                ready                 pause
 *   disconnected ───▶ connecting ─────────▶ connected ─────────▶ paused
 *        ▲  ▲            │ fail               │  ▲   resume       │
 *        │  └────────────┘                    │  └────────────────┘
 *        └──────────────────── lose ──────────┴────────────────────┘
 *   close: any state but closed ──▶ closed
 */

export type ClientState = 'connecting' | 'connected' | 'disconnected' | 'paused' | 'closed';

/** What a 'status' event carries: the new state and what goes with it. */
export type ClientStatus =
  | { readonly state: 'connecting'; readonly address: Address }
  | { readonly state: 'connected'; readonly address: Address; readonly messenger: Messenger }
  /** `retryIn`: ms until the next attempt; `error` is absent when the peer closed cleanly. */
  | { readonly state: 'disconnected'; readonly error?: Error; readonly retryIn: number }
  | { readonly state: 'paused' }
  | { readonly state: 'closed' };

export interface PermanentClientEvents {
  status: [status: ClientStatus];
  /** Every message from the peer but the heartbeat's own ALIVE/ABSOLUTELY, handshake included. */
  message: [msg: Message];
  /** Everything held has gone to the link and the link can take more. */
  drain: [];
  /** A message whose body was over the limit was skipped (the messenger's 'discarded'). */
  discarded: [msg: Message, bodyBytes: number];
  /** The peer broke the protocol; already answered (the messenger's 'protocolError'). */
  protocolError: [error: ProtocolError];
}

/** Every allowed move: the states it leaves from and the state it reaches. */
export const TRANSITIONS = {
  retry: { from: ['disconnected'], to: 'connecting' },
  ready: { from: ['connecting'], to: 'connected' },
  fail: { from: ['connecting'], to: 'disconnected' },
  lose: { from: ['connected', 'paused'], to: 'disconnected' },
  pause: { from: ['connected'], to: 'paused' },
  resume: { from: ['paused'], to: 'connected' },
  close: { from: ['connecting', 'connected', 'disconnected', 'paused'], to: 'closed' },
} as const satisfies Record<string, { from: readonly ClientState[]; to: ClientState }>;

export type Transition = keyof typeof TRANSITIONS;

/** The status a transition emits: the member of the union for the state it reaches. */
export type StatusAfter<T extends Transition> = Extract<
  ClientStatus,
  { state: (typeof TRANSITIONS)[T]['to'] }
>;

/** The permanent client's state machine over TRANSITIONS. */
export class ClientStateMachine extends StateMachine<ClientState, Transition> {
  constructor(initial: ClientState) {
    super('permanent client', TRANSITIONS, initial);
  }
}
