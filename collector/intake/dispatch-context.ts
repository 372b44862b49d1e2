/** The dispatcher's context in the collector: who sent a message, and its stream session if any. */

import type { DispatchContext } from '../../shared/dispatcher/context.js';
import type { Messenger } from '../../shared/net/messenger.js';
import type { Message } from '../../shared/protocol/message.js';
import type { TokenCheck } from '../access/token-check.js';

/** What the dispatcher's handlers ask of a stream session (intake/session.ts implements it). */
export interface SessionHandle {
  readonly messenger: Messenger;
  register(msg: Message, ctx: CollectorContext): void;
  events(msg: Message, ctx: CollectorContext): void;
}

/** A stream session, or none for UDP. */
export interface CollectorContext extends DispatchContext {
  readonly session: SessionHandle | undefined;
  /** The tokens the link's listener accepts now (none required when absent). */
  readonly tokens?: () => TokenCheck;
}
