/**
 * Control commands (PROTOCOL.md §5). State-changing ones are obeyed only from a Unix socket,
 * loopback (not a browser's WebSocket), or with the secret over tls/wss; anything else gets
 * `UNAUTHORIZED command=X`. Every OK names the command it answers.
 */

import type { Dispatcher } from '../../shared/dispatcher/dispatcher.js';
import { type Message, message } from '../../shared/protocol/message.js';
import type { ReloadOutcome } from '../config/reload-plan.js';
import type { CollectorContext } from '../intake/dispatch-context.js';

export type { ReloadOutcome } from '../config/reload-plan.js';

export interface ControlActions {
  reopen(): Promise<void>;
  /** Re-reads the configuration and applies it whole, or refuses it whole. */
  reload(): Promise<ReloadOutcome>;
  stop(reason: string): Promise<void>;
  status(): Readonly<Record<string, string | number>>;
  secretCode(): string | undefined;
  onError(error: unknown): void;
}

export const STATE_CHANGING = ['LOG', 'LOG_ROTATE', 'RELOAD', 'STOP', 'QUIT'] as const;

/** Every control command of §5: a connection sending these needs no REGISTER. */
export const CONTROL_COMMANDS: ReadonlySet<string> = new Set([...STATE_CHANGING, 'STATUS', 'HELP', 'ALIVE']);
/**
 * `OK command=RELOAD;changed=format,trace` (empty when nothing changed), or
 * `INVALID command=RELOAD;reason=restart_needed;key=max_body,listen`, or
 * `INVALID command=RELOAD;reason=bad_config;error="c.toml: format must be …"`.
 */
export function reloadReply(outcome: ReloadOutcome): Message {
  if (outcome.kind === 'applied') {
    return message('OK', { command: 'RELOAD', changed: outcome.changed.join(',') });
  }
  return message('INVALID', {
    command: 'RELOAD',
    reason: outcome.reason,
    ...(outcome.keys === undefined ? {} : { key: outcome.keys.join(',') }),
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
  });
}

/** True when this peer may change the collector's state with this message (§5). */
export function authorized(msg: Message, ctx: CollectorContext, secretCode: string | undefined): boolean {
  if (ctx.peer.local) return true;
  return ctx.peer.secure && secretCode !== undefined && msg.params.secret_code === secretCode;
}

export function installControlHandlers(
  dispatcher: Dispatcher<CollectorContext>,
  actions: ControlActions,
): void {
  const guarded = (command: string, run: (msg: Message, ctx: CollectorContext) => Promise<void>): void => {
    dispatcher.on(command, (msg, ctx) => {
      if (!authorized(msg, ctx, actions.secretCode())) {
        ctx.reply(message('UNAUTHORIZED', { command }));
        return;
      }
      return run(msg, ctx).catch((error: unknown) => {
        actions.onError(error);
        ctx.reply(message('INVALID', { command, reason: 'failed' }));
      });
    });
  };

  for (const command of ['LOG', 'LOG_ROTATE']) {
    guarded(command, async (_msg, ctx) => {
      await actions.reopen();
      ctx.reply(message('OK', { command }));
    });
  }
  guarded('RELOAD', async (_msg, ctx) => {
    ctx.reply(reloadReply(await actions.reload()));
  });
  for (const command of ['STOP', 'QUIT']) {
    guarded(command, async (_msg, ctx) => {
      // Answer first: the drain closes this connection too.
      ctx.reply(message('OK', { command }));
      await actions.stop(command);
    });
  }
  dispatcher.on('STATUS', (_msg, ctx) => {
    ctx.reply(message('OK', { command: 'STATUS', ...actions.status() }));
  });
}
