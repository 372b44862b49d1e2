import { LogwireError } from '../errors.js';
import type { Messenger } from '../net/messenger.js';
import type { Timers } from '../net/timers.js';
import { parseInteger } from '../protocol/accessors.js';
import { type Message, message } from '../protocol/message.js';

/**
 * One REGISTER and its answer (PROTOCOL.md §4.1–2), on a link that is up and says nothing else
 * yet:
 *
 *   REGISTER version=1;source;service;host;next;first[;pid][;token]
 *     ├─▶ READY version=1;last=L;max_body=B     → { kind: 'ready', last, maxBody }
 *     └─▶ UNAUTHORIZED reason=… | INVALID command=REGISTER;reason=… → { kind: 'refused', … }
 *
 * It rejects only when no answer comes: the timeout, the abort signal, or the link closing.
 */

export interface RegisterParams {
  readonly source: string;
  readonly service: string;
  readonly host: string;
  /** The number the next new record will get. */
  readonly next: number;
  /** The lowest number still held. */
  readonly first: number;
  readonly pid?: number;
  readonly token?: string;
}

export type RegisterOutcome =
  | { readonly kind: 'ready'; readonly last: number; readonly maxBody: number | undefined }
  | { readonly kind: 'refused'; readonly command: string; readonly reason: string };

export interface RegisterOptions {
  /** ms to wait for the answer. */
  readonly timeout: number;
  readonly timers: Timers;
  readonly signal: AbortSignal;
}

const TIMER = 'register';

/** Sends REGISTER on `messenger` and resolves with the collector's answer. */
export function register(
  messenger: Messenger,
  params: RegisterParams,
  options: RegisterOptions,
): Promise<RegisterOutcome> {
  const { timeout, timers, signal } = options;
  return new Promise<RegisterOutcome>((resolve, reject) => {
    const finish = (): void => {
      messenger.off('message', onMessage);
      messenger.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      timers.clear(TIMER);
    };
    const onMessage = (msg: Message): void => {
      const outcome = answer(msg);
      if (outcome === undefined) return;
      finish();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const onClose = (): void => {
      finish();
      reject(new LogwireError('LW_ERR_CLOSED', 'the link closed before the answer to REGISTER'));
    };
    const onAbort = (): void => {
      finish();
      reject(signal.reason);
    };
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    messenger.on('message', onMessage);
    messenger.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
    timers.set(TIMER, timeout, () => {
      finish();
      reject(new LogwireError('LW_ERR_CONNECT_TIMEOUT', `no READY within ${timeout} ms after REGISTER`));
    });
    messenger.send(message('REGISTER', { version: 1, ...params }));
  });
}

/** The outcome a message gives, an error for a malformed READY, or undefined when it is not an answer. */
function answer(msg: Message): RegisterOutcome | Error | undefined {
  if (msg.command === 'READY') {
    const last = parseInteger(msg.params.last ?? '');
    if (last === undefined) return new LogwireError('LW_ERR_BAD_PARAM', 'READY without a valid last');
    const maxBody = parseInteger(msg.params.max_body ?? '');
    return { kind: 'ready', last, maxBody: maxBody === 0 ? undefined : maxBody };
  }
  const refusal =
    msg.command === 'UNAUTHORIZED' || (msg.command === 'INVALID' && msg.params.command === 'REGISTER');
  if (!refusal) return undefined;
  return { kind: 'refused', command: msg.command, reason: msg.params.reason ?? 'none given' };
}
