/**
 * Routes received messages to handlers (issue #2).
 *
 *   dispatch(msg, ctx)
 *     ├─ coverage.received, trace (secrets masked, no body)
 *     ├─ checkMessage against its definition ── fails ─▶ INVALID/UNKNOWN via ctx.reply
 *     │                                               (never for a reply), onInvalid, stop
 *     └─ matches in order (priority, then order added):
 *          callback match ─▶ run, go on;  full match ─▶ run, stop
 *
 * Handlers run synchronously in that order; the dispatcher does not wait for a handler's
 * promise (a handler that needs ordering queues its own work), but a rejection is caught and
 * given to onError, never left unhandled.
 */

import { LogwireError, type OwedReply, type ProtocolError } from '../errors.js';
import { checkMessage, type Definitions } from '../protocol/definitions.js';
import { type Message, message, REPLY_COMMANDS } from '../protocol/message.js';
import type { DispatchContext } from './context.js';
import { Coverage, defaultCoverage } from './coverage.js';
import { accepts, type Match, type MatchOptions, MatchTable } from './match.js';
import { type TraceEntry, traceEntry } from './trace.js';

export type { DispatchContext, PeerInfo } from './context.js';
export type { MatchOptions } from './match.js';
export type { TraceEntry } from './trace.js';

export type Handler<Ctx extends DispatchContext> = (msg: Message, ctx: Ctx) => void | Promise<void>;

export interface DispatcherOptions<Ctx extends DispatchContext> {
  /** When given, every message is checked first; see checkMessage. */
  readonly definitions?: Definitions;
  /** Told when a regex and an exact command overlap. Default: process.emitWarning. */
  readonly warn?: (message: string) => void;
  /** Told when a handler throws or its promise rejects. Default: process.emitWarning. */
  readonly onError?: (error: unknown, msg: Message, ctx: Ctx) => void;
  /** Told of every message that fails its check, after the owed answer (if any) is sent. */
  readonly onInvalid?: (error: ProtocolError, msg: Message, ctx: Ctx) => void;
  /**
   * Sees every received message (secrets masked, body length only). Where it goes is the
   * caller's choice, but never into a log shipper (the appender, a pino logger that feeds one):
   * each traced message would make records, whose sending would be traced, without end.
   */
  readonly trace?: (entry: TraceEntry) => void;
  /** Where received commands are counted. Default: defaultCoverage; null counts nothing. */
  readonly coverage?: Coverage | null;
}

/** handled: a full match ran; unmatched: none did (observers may have); invalid: check failed. */
export type DispatchResult = 'handled' | 'unmatched' | 'invalid';

const COMMAND = /^[A-Z][A-Z0-9_]*$/;

function emitWarning(message: string): void {
  process.emitWarning(message, { type: 'LogwireWarning' });
}

function defaultOnError(error: unknown, msg: Message): void {
  const reason = error instanceof Error ? error.message : String(error);
  emitWarning(`dispatcher: the handler of ${msg.command} failed: ${reason}`);
}

function checkFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new LogwireError('LW_ERR_BAD_OPTION', `dispatcher: option ${name} must be a function`);
  }
}

/** The reply a ProtocolError owes, as a message. */
export function owedMessage(owed: OwedReply): Message {
  return message(owed.command, owed.params);
}

export class Dispatcher<Ctx extends DispatchContext = DispatchContext> {
  readonly definitions: Definitions | undefined;
  readonly #table: MatchTable<Handler<Ctx>>;
  readonly #onError: (error: unknown, msg: Message, ctx: Ctx) => void;
  readonly #onInvalid: ((error: ProtocolError, msg: Message, ctx: Ctx) => void) | undefined;
  #trace: ((entry: TraceEntry) => void) | undefined;
  readonly #coverage: Coverage | null;

  constructor(options: DispatcherOptions<Ctx> = {}) {
    for (const name of ['warn', 'onError', 'onInvalid', 'trace'] as const) checkFunction(name, options[name]);
    if (options.coverage != null && !(options.coverage instanceof Coverage)) {
      throw new LogwireError('LW_ERR_BAD_OPTION', 'dispatcher: option coverage must be a Coverage or null');
    }
    this.definitions = options.definitions;
    this.#table = new MatchTable(options.warn ?? emitWarning);
    this.#onError = options.onError ?? defaultOnError;
    this.#onInvalid = options.onInvalid;
    this.#trace = options.trace;
    this.#coverage = options.coverage === undefined ? defaultCoverage : options.coverage;
  }

  /** Handles `command` exactly. A second full match on it throws LW_ERR_DUPLICATE_MATCH. */
  on(command: string, handler: Handler<Ctx>, options?: MatchOptions): this {
    if (typeof command !== 'string' || !COMMAND.test(command)) {
      throw new LogwireError(
        'LW_ERR_BAD_OPTION',
        `dispatcher: ${String(command)} is not a command (UPPER_CASE)`,
      );
    }
    this.#add({ kind: 'exact', command }, handler, options);
    return this;
  }

  /** Handles every command the regex matches; warns when it overlaps an exact command. */
  onMatch(regex: RegExp, handler: Handler<Ctx>, options?: MatchOptions): this {
    if (!(regex instanceof RegExp))
      throw new LogwireError('LW_ERR_BAD_OPTION', 'dispatcher: onMatch needs a RegExp');
    this.#add({ kind: 'regex', regex }, handler, options);
    return this;
  }

  /** Handles every command; a second full catch-all throws LW_ERR_DUPLICATE_MATCH. */
  onAny(handler: Handler<Ctx>, options?: MatchOptions): this {
    this.#add({ kind: 'any' }, handler, options);
    return this;
  }

  /** Starts (a function) or stops (undefined) tracing every dispatched message, as the option does. */
  setTrace(trace: ((entry: TraceEntry) => void) | undefined): void {
    checkFunction('trace', trace);
    this.#trace = trace;
  }

  /** The commands matched exactly (by a full match), sorted: what HELP lists. */
  commands(): readonly string[] {
    return this.#table.exactCommands();
  }

  /** For the messenger: counts a message it sent in this dispatcher's coverage. */
  noteSent(msg: Message): void {
    this.#coverage?.sent(msg.command);
  }

  dispatch(msg: Message, ctx: Ctx): DispatchResult {
    const command = msg.command;
    this.#coverage?.received(command);
    if (this.#trace !== undefined) {
      try {
        this.#trace(traceEntry(msg, ctx.peer));
      } catch (error) {
        this.#report(error, msg, ctx);
      }
    }
    if (this.definitions !== undefined) {
      const error = checkMessage(msg, this.definitions);
      if (error !== undefined) {
        // PROTOCOL.md §5: replies are never answered, so two peers never ping-pong errors.
        if (error.reply !== undefined && !REPLY_COMMANDS.has(command)) ctx.reply(owedMessage(error.reply));
        this.#onInvalid?.(error, msg, ctx);
        return 'invalid';
      }
    }
    const { list, exact } = this.#table.candidates(command);
    for (let i = 0; i < list.length; i++) {
      const match = list[i]!;
      if (!exact && !accepts(match.matcher, command)) continue;
      this.#run(match, msg, ctx);
      if (!match.callback) return 'handled';
    }
    return 'unmatched';
  }

  #add(
    matcher: Parameters<MatchTable<Handler<Ctx>>['add']>[0],
    handler: Handler<Ctx>,
    options?: MatchOptions,
  ) {
    if (typeof handler !== 'function') {
      throw new LogwireError('LW_ERR_BAD_OPTION', 'dispatcher: a handler must be a function');
    }
    this.#table.add(matcher, handler, options);
  }

  #run(match: Match<Handler<Ctx>>, msg: Message, ctx: Ctx): void {
    try {
      const result = match.handler(msg, ctx);
      if (result !== undefined && typeof result.then === 'function') {
        result.then(undefined, (error: unknown) => this.#report(error, msg, ctx));
      }
    } catch (error) {
      this.#report(error, msg, ctx);
    }
  }

  /** onError itself failing must not become an unhandled rejection either. */
  #report(error: unknown, msg: Message, ctx: Ctx): void {
    try {
      this.#onError(error, msg, ctx);
    } catch (failure) {
      defaultOnError(failure, msg);
    }
  }
}
