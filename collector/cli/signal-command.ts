/**
 * `logwire signal`: sends one control command to a collector, as logrotate's postrotate hook
 * does (`logwire signal LOG`). By default over tcp, waiting for one reply, so a hook learns
 * when no collector heard it. Over UDP, only when asked, it sends one datagram and says on
 * stderr that nothing confirms it (nothing answers a datagram, PROTOCOL.md §7). Exit codes
 * (INTERFACES.md):
 *
 *   0  sent (UDP), or answered OK / COMMANDS / ABSOLUTELY
 *   1  usage error
 *   2  refused: UNAUTHORIZED / INVALID / UNKNOWN (or any other reply)
 *   3  no answer within --timeout, or no connection
 *
 * Whatever happens, the socket is closed and the deadline timer cleared, so the tool exits.
 */

import { type Command, Option } from 'commander';
import { type Clock, systemClock } from '../../shared/net/clock.js';
import { connectLink } from '../../shared/net/connect.js';
import type { Link } from '../../shared/net/link.js';
import { Messenger } from '../../shared/net/messenger.js';
import { formatAddress } from '../../shared/protocol/address.js';
import { formatLine } from '../../shared/protocol/line.js';
import { type Message, REPLY_COMMANDS } from '../../shared/protocol/message.js';
import { collect } from './repeatable.js';
import {
  DEFAULT_SIGNAL_HOST,
  DEFAULT_SIGNAL_TIMEOUT,
  parseSignalRequest,
  SIGNAL_TYPES,
  type SignalOptions,
  type SignalRequest,
  SignalUsageError,
} from './signal-request.js';

export type { SignalOptions } from './signal-request.js';

export const SIGNAL_EXIT = Object.freeze({ SENT: 0, USAGE: 1, REFUSED: 2, NO_ANSWER: 3 });

const ACCEPTED: ReadonlySet<string> = new Set(['OK', 'COMMANDS', 'ABSOLUTELY']);

export interface SignalResult {
  readonly exitCode: number;
  /** The reply's line without its LF, when one came. */
  readonly reply?: string;
}

/** Where the tool writes, and what it connects with: injected by tests. */
export interface SignalDeps {
  readonly stdout?: { write(text: string): unknown };
  readonly stderr?: { write(text: string): unknown };
  readonly connect?: typeof connectLink;
  /** Drives the reply deadline; default the system clock. */
  readonly clock?: Clock;
}

/** Runs `logwire signal` in-process; never throws, always closes what it opened. */
export async function runSignal(options: SignalOptions, deps: SignalDeps = {}): Promise<SignalResult> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  let request: SignalRequest;
  try {
    request = parseSignalRequest(options);
  } catch (err) {
    if (!(err instanceof SignalUsageError)) throw err;
    stderr.write(`logwire signal: ${err.message}\n`);
    return { exitCode: SIGNAL_EXIT.USAGE };
  }
  const outcome = await send(request, deps.connect ?? connectLink, deps.clock ?? systemClock);
  const command = request.message.command;
  if (outcome.kind === 'failed') {
    stderr.write(`logwire signal: ${outcome.reason}\n`);
    return { exitCode: SIGNAL_EXIT.NO_ANSWER };
  }
  if (outcome.kind === 'sent') {
    stderr.write(
      `logwire signal: ${command} sent to ${formatAddress(request.address)} as one datagram; ` +
        'nothing confirms that a collector received it (a tcp or unix --host waits for the answer)\n',
    );
    return { exitCode: SIGNAL_EXIT.SENT };
  }
  const reply = formatLine(outcome.reply).slice(0, -1);
  if (request.reply) stdout.write(`${reply}\n`);
  if (ACCEPTED.has(outcome.reply.command)) return { exitCode: SIGNAL_EXIT.SENT, reply };
  stderr.write(`logwire signal: ${command} refused: ${reply}\n`);
  const why = refusalDetail(outcome.reply);
  if (why !== undefined) stderr.write(`logwire signal: ${why}\n`);
  return { exitCode: SIGNAL_EXIT.REFUSED, reply };
}

/** The reason of a refusal in words, with the keys or error a refused RELOAD names. */
function refusalDetail(reply: Message): string | undefined {
  const { reason, key, error } = reply.params;
  if (reason === undefined) return undefined;
  if (reason === 'restart_needed' && key !== undefined) {
    return `${key.split(',').join(', ')} cannot change without restarting the collector (reason=restart_needed)`;
  }
  return [
    `reason=${reason}`,
    ...(key === undefined ? [] : [`key=${key}`]),
    ...(error === undefined ? [] : [error]),
  ].join(': ');
}

type Outcome =
  | { readonly kind: 'sent' }
  | { readonly kind: 'answered'; readonly reply: Message }
  | { readonly kind: 'failed'; readonly reason: string };

/**
 * One deadline covers connecting and waiting: when it fires, the connect attempt is aborted
 * (connectLink then leaves no socket) or the wait ends.
 */
async function send(request: SignalRequest, connect: typeof connectLink, clock: Clock): Promise<Outcome> {
  const target = formatAddress(request.address);
  const nobody = `no collector answered at ${target}`;
  const deadline = new AbortController();
  const timer = clock.setTimeout(() => deadline.abort(), request.timeout);
  let link: Link | undefined;
  try {
    try {
      const options = {
        connectTimeout: request.timeout,
        handshakeTimeout: request.timeout,
        ...(request.ca === undefined ? {} : { tls: { ca: request.ca } }),
      };
      link = await connect(request.address, options, deadline.signal);
    } catch (err) {
      const why = deadline.signal.aborted
        ? `no connection within ${request.timeout} ms`
        : connectProblem(err, target);
      return { kind: 'failed', reason: `${nobody}: ${why}` };
    }
    // UDP never answers (PROTOCOL.md §7): the messenger must not answer either.
    const udp = request.address.scheme === 'udp';
    const messenger = new Messenger(link, { replies: !udp });
    if (udp) {
      return messenger.send(request.message) || !link.closed
        ? { kind: 'sent' }
        : { kind: 'failed', reason: `cannot send to ${target}` };
    }
    const reply = await firstReply(messenger, request.message, deadline.signal);
    if (reply !== undefined) return { kind: 'answered', reply };
    return {
      kind: 'failed',
      reason: deadline.signal.aborted
        ? `${nobody} within ${request.timeout} ms`
        : `${nobody}: it closed the connection without answering`,
    };
  } finally {
    clock.clearTimeout(timer);
    deadline.abort();
    // UDP: close() flushes the datagram first. A stream: once answered (or given up on) there
    // is nothing left to flush, and a peer that never closes must not keep the tool alive.
    if (request.address.scheme === 'udp') link?.close();
    else link?.destroy();
  }
}

/** The connect error without its `connect <address>: ` prefix (the message names it already). */
function connectProblem(err: unknown, target: string): string {
  const text = err instanceof Error ? err.message : String(err);
  const prefix = `connect ${target}: `;
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
}

/** The first reply (OK, UNAUTHORIZED …), skipping anything else the peer sends (PAUSE …). */
function firstReply(messenger: Messenger, msg: Message, signal: AbortSignal): Promise<Message | undefined> {
  return new Promise((resolve) => {
    const done = (reply: Message | undefined): void => {
      messenger.off('message', onMessage);
      messenger.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      resolve(reply);
    };
    const onMessage = (m: Message): void => {
      if (REPLY_COMMANDS.has(m.command)) done(m);
    };
    const onClose = (): void => done(undefined);
    const onAbort = (): void => done(undefined);
    messenger.on('message', onMessage);
    messenger.on('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted || messenger.closed) done(undefined);
    else messenger.send(msg);
  });
}

/** Adds `logwire signal` to the program; the action sets process.exitCode. */
export function addSignalCommand(program: Command): Command {
  return program
    .command('signal')
    .description("send one control command to a collector (what logrotate's postrotate hook runs)")
    .argument('<command>', '[[server:]service/]COMMAND, like LOG, STATUS or STOP')
    .option(
      '--host <address>',
      `collector address, docs/protocol.md §9 form (default ${DEFAULT_SIGNAL_HOST})`,
    )
    .addOption(
      new Option('--type <scheme>', 'scheme to use when --host names none').choices([...SIGNAL_TYPES]),
    )
    .option('--reply', 'print the reply on stdout (streams only)')
    .option('--secret-code <code>', 'the collector secret_code (tls only)')
    .option('--ca <file>', 'PEM certificates to trust for tls, besides the system ones')
    .option('--param <name=value>', 'add a parameter (repeatable)', collect)
    .option(
      '--timeout <ms>',
      `how long to wait for the connection and the reply (default ${DEFAULT_SIGNAL_TIMEOUT})`,
    )
    .action(async (command: string, opts: Omit<SignalOptions, 'command'>) => {
      const result = await runSignal({ ...opts, command });
      process.exitCode = result.exitCode;
      // runSignal closes what it opened; should anything else hold the loop, leave anyway.
      setTimeout(() => process.exit(result.exitCode), 1000).unref();
    });
}
