/**
 * The handlers every peer has (PROTOCOL.md §4–§5): ALIVE → ABSOLUTELY echoing `serial`,
 * HELP → `COMMANDS list=…`, and a catch-all that answers UNKNOWN to any other command no
 * handler takes. INVALID for a failed check and silence towards replies are the dispatcher's
 * own rules (dispatcher.ts), so they hold even without these handlers.
 */

import { message, REPLY_COMMANDS } from '../protocol/message.js';
import type { DispatchContext } from './context.js';
import type { Dispatcher } from './dispatcher.js';

export interface StandardHandlerOptions {
  /** Answer ALIVE. Default true. */
  readonly alive?: boolean;
  /** Answer HELP. Default true. */
  readonly help?: boolean;
  /** Answer UNKNOWN to unmatched commands (a full catch-all). Default true. */
  readonly unknown?: boolean;
}

/** Below every other match, so any handler added before or after takes precedence. */
export const UNKNOWN_PRIORITY = Number.NEGATIVE_INFINITY;

export function installStandardHandlers<Ctx extends DispatchContext>(
  dispatcher: Dispatcher<Ctx>,
  options: StandardHandlerOptions = {},
): void {
  if (options.alive !== false) {
    dispatcher.on('ALIVE', (msg, ctx) => {
      ctx.reply(message('ABSOLUTELY', { serial: msg.params.serial }));
    });
  }
  if (options.help !== false) {
    dispatcher.on('HELP', (_msg, ctx) => {
      ctx.reply(message('COMMANDS', { list: dispatcher.commands().join(',') }));
    });
  }
  if (options.unknown !== false) {
    dispatcher.onAny(
      (msg, ctx) => {
        if (!REPLY_COMMANDS.has(msg.command)) ctx.reply(message('UNKNOWN', { command: msg.command }));
      },
      { priority: UNKNOWN_PRIORITY },
    );
  }
}
