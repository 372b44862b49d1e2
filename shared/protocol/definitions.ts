/**
 * Message definitions: for every command of PROTOCOL.md §3–§5, the parameters it takes, their
 * types and presence. checkMessage() holds a received message against its definition and
 * returns the error owed to the peer; parameters a definition does not name are refused
 * (eventdispatcher accepted any, and swallowed a failed check without a reply).
 *
 * Reasons in `INVALID command=X;reason=…` are `<problem>_<param>`:
 *   missing_<p>          a required parameter is absent          (missing_seq)
 *   empty_<p>            a parameter is empty where it may not be (empty_source)
 *   bad_<p>              a value is not of the parameter's type   (bad_seq)
 *   forbidden_<p>        a parameter the command forbids          (forbidden_bytes)
 *   undefined_param_<p>  a parameter the command does not define  (undefined_param_foo)
 * Parameter names follow the line grammar ([A-Za-z_][A-Za-z0-9_]*), so a reason never needs
 * quoting; a long name is cut at 64 characters.
 */

import { ProtocolError } from '../errors.js';
import { isName, parseBoolean, parseInteger, parseList, parseTimestamp } from './accessors.js';
import { parseAddress } from './address.js';
import type { Message } from './message.js';

/**
 * `name` is a source, service or host name (PROTOCOL.md §4); `command` is a command name
 * (UPPER_CASE), as carried by replies that name the command they answer.
 */
export type ParamType =
  | 'string'
  | 'name'
  | 'command'
  | 'integer'
  | 'timestamp'
  | 'address'
  | 'boolean'
  | 'list';

/** `forbidden` refuses a parameter, e.g. a global one on one command, or `bytes` on an open one. */
export type Presence = 'required' | 'optional' | 'forbidden';

export interface ParamDefinition {
  readonly type: ParamType;
  readonly presence: Presence;
  /** An empty value passes without a type check (default: refused as `empty_<p>`). */
  readonly allowEmpty?: boolean;
  /** Lowest integer accepted (PROTOCOL.md §3: seq, first and next start at 1). */
  readonly min?: number;
  /** Never shown in traces, STATUS, logs or the rejected-records file (PROTOCOL.md §5). */
  readonly secret?: boolean;
}

export interface MessageDefinition {
  readonly command: string;
  readonly params: Readonly<Record<string, ParamDefinition>>;
  /** Parameters it does not name are accepted as strings (OK carries STATUS counters). */
  readonly open?: boolean;
  /** A reply (PROTOCOL.md §5): never answered, not even when its check fails. */
  readonly reply?: boolean;
}

/** Checked definitions, built by defineMessages(). */
export interface Definitions {
  readonly messages: ReadonlyMap<string, MessageDefinition>;
  /** Parameters every message accepts, unless its definition overrides them. */
  readonly globals: Readonly<Record<string, ParamDefinition>>;
}

const COMMAND = /^[A-Z][A-Z0-9_]*$/;
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Builds frozen definitions; throws on a repeated command or a malformed name. */
export function defineMessages(
  list: readonly MessageDefinition[],
  globals: Readonly<Record<string, ParamDefinition>> = {},
): Definitions {
  const messages = new Map<string, MessageDefinition>();
  for (const def of list) {
    if (!COMMAND.test(def.command))
      throw new TypeError(`definition: command ${def.command} is not UPPER_CASE`);
    if (messages.has(def.command)) throw new TypeError(`definition: ${def.command} is defined twice`);
    for (const name of Object.keys(def.params)) {
      if (!PARAM_NAME.test(name))
        throw new TypeError(`definition: ${def.command} has a bad parameter ${name}`);
    }
    messages.set(def.command, Object.freeze({ ...def, params: nullProto(def.params) }));
  }
  return Object.freeze({ messages, globals: nullProto(globals) });
}

function nullProto<T>(record: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, record));
}

const required = (type: ParamType, extra: Partial<ParamDefinition> = {}): ParamDefinition => ({
  type,
  presence: 'required',
  ...extra,
});
const optional = (type: ParamType, extra: Partial<ParamDefinition> = {}): ParamDefinition => ({
  type,
  presence: 'optional',
  ...extra,
});
const NONE: Readonly<Record<string, ParamDefinition>> = {};

/**
 * Accepted on every message. `secret_code` is eventdispatcher's name for the control secret
 * (PROTOCOL.md §5); whether it is honoured (tls/wss only) is the control handler's business.
 */
export const GLOBAL_PARAMS: Readonly<Record<string, ParamDefinition>> = {
  secret_code: optional('string', { secret: true }),
};

/** Every command of PROTOCOL.md §3–§5, with exactly the parameters it gives. */
export const DEFINITIONS: Definitions = defineMessages(
  [
    // §3, §7: records. source/service/host are required over UDP only, which the UDP path checks.
    {
      command: 'EVENTS',
      params: {
        seq: required('integer', { min: 1 }),
        count: required('integer', { min: 1 }),
        bytes: required('integer'),
        source: optional('name'),
        service: optional('name'),
        host: optional('name'),
      },
    },
    // §4: a session over a stream.
    {
      command: 'REGISTER',
      params: {
        version: required('integer', { min: 1 }),
        source: required('name'),
        service: required('name'),
        host: required('name'),
        next: required('integer', { min: 1 }),
        first: optional('integer', { min: 1 }),
        pid: optional('integer'),
        token: optional('string', { secret: true }),
      },
    },
    {
      command: 'READY',
      reply: true,
      params: {
        version: required('integer', { min: 1 }),
        last: required('integer'),
        max_body: required('integer', { min: 1 }),
      },
    },
    { command: 'ACK', reply: true, params: { seq: required('integer', { min: 1 }) } },
    // ALIVE's serial is optional as in eventdispatcher; ABSOLUTELY echoes it when given.
    { command: 'ALIVE', params: { serial: optional('string') } },
    { command: 'ABSOLUTELY', reply: true, params: { serial: optional('string') } },
    { command: 'PAUSE', params: NONE },
    { command: 'UNPAUSE', params: NONE },
    // §5: control commands (secret_code is global).
    { command: 'LOG', params: NONE },
    { command: 'LOG_ROTATE', params: NONE },
    { command: 'RELOAD', params: NONE },
    { command: 'STATUS', params: NONE },
    { command: 'HELP', params: NONE },
    { command: 'STOP', params: NONE },
    { command: 'QUIT', params: NONE },
    // §5: replies. OK is open for STATUS counters; `bytes` is framing, never a counter (§2).
    {
      command: 'OK',
      reply: true,
      open: true,
      params: { command: required('command'), bytes: { type: 'integer', presence: 'forbidden' } },
    },
    { command: 'COMMANDS', reply: true, params: { list: required('list') } },
    { command: 'UNKNOWN', reply: true, params: { command: required('command') } },
    // §6: an unparsable line gets INVALID without a command.
    // A refused RELOAD also names the keys at fault, or the configuration error.
    {
      command: 'INVALID',
      reply: true,
      params: {
        command: optional('command'),
        reason: required('string'),
        key: optional('list'),
        error: optional('string'),
      },
    },
    // §4 refuses REGISTER with `reason`, §5 a control command with `command`.
    {
      command: 'UNAUTHORIZED',
      reply: true,
      params: { command: optional('command'), reason: optional('string') },
    },
  ],
  GLOBAL_PARAMS,
);

/** The commands of PROTOCOL.md, in the order of the list above. */
export const PROTOCOL_COMMANDS: readonly string[] = Object.freeze([...DEFINITIONS.messages.keys()]);

/** Names of parameters never to show (traces, STATUS, logs, rejected records), on any message. */
export const SECRET_PARAMS: ReadonlySet<string> = collectSecrets(DEFINITIONS);

function collectSecrets(defs: Definitions): ReadonlySet<string> {
  const names = new Set<string>();
  const add = (params: Readonly<Record<string, ParamDefinition>>): void => {
    for (const name in params) if (params[name]!.secret === true) names.add(name);
  };
  add(defs.globals);
  for (const def of defs.messages.values()) add(def.params);
  return names;
}

const MAX_REASON_NAME = 64;

function owed(command: string, reason: string, name: string, detail: string): ProtocolError {
  const shortName = name.length > MAX_REASON_NAME ? name.slice(0, MAX_REASON_NAME) : name;
  const code =
    reason === 'missing'
      ? 'LW_ERR_MISSING_PARAM'
      : reason === 'undefined_param'
        ? 'LW_ERR_UNDEFINED_PARAM'
        : 'LW_ERR_BAD_PARAM';
  return new ProtocolError(code, `${command}: parameter ${shortName} ${detail}`, {
    fatal: false,
    reply: { command: 'INVALID', params: { command, reason: `${reason}_${shortName}` } },
  });
}

/** True when a non-empty value is of the type (and above the minimum) the definition asks. */
function valid(def: ParamDefinition, value: string): boolean {
  switch (def.type) {
    case 'string':
      return true;
    case 'name':
      return isName(value);
    case 'command':
      return COMMAND.test(value);
    case 'integer': {
      const n = parseInteger(value);
      return n !== undefined && n >= (def.min ?? 0);
    }
    case 'timestamp':
      return parseTimestamp(value) !== undefined;
    case 'boolean':
      return parseBoolean(value) !== undefined;
    case 'list':
      return parseList(value) !== undefined;
    case 'address':
      try {
        parseAddress(value);
        return true;
      } catch {
        return false;
      }
  }
}

/**
 * Holds a received message against its definition. Returns undefined when it passes, else a
 * ProtocolError (not fatal) whose reply is the answer owed: `UNKNOWN command=X` for a command
 * without a definition, `INVALID command=X;reason=…` (see the reasons above) for a bad one.
 * The first problem found is reported: parameters in the order received, then missing ones.
 */
export function checkMessage(msg: Message, definitions: Definitions): ProtocolError | undefined {
  const command = msg.command;
  const def = definitions.messages.get(command);
  if (def === undefined) {
    return new ProtocolError('LW_ERR_UNKNOWN_COMMAND', `${command}: no such command`, {
      fatal: false,
      reply: { command: 'UNKNOWN', params: { command } },
    });
  }
  const own = def.params;
  const globals = definitions.globals;
  const params = msg.params;
  for (const name in params) {
    const p = own[name] ?? globals[name];
    if (p === undefined) {
      if (def.open === true) continue;
      return owed(command, 'undefined_param', name, `is not defined for ${command}`);
    }
    if (p.presence === 'forbidden') return owed(command, 'forbidden', name, `is not allowed on ${command}`);
    const value = params[name]!;
    if (value === '') {
      if (p.allowEmpty === true) continue;
      return owed(command, 'empty', name, 'may not be empty');
    }
    if (!valid(p, value)) return owed(command, 'bad', name, `must be ${shape(p)}`);
  }
  for (const name in own) {
    if (own[name]!.presence === 'required' && typeof params[name] !== 'string') {
      return owed(command, 'missing', name, 'is required');
    }
  }
  for (const name in globals) {
    if (
      globals[name]!.presence === 'required' &&
      own[name] === undefined &&
      typeof params[name] !== 'string'
    ) {
      return owed(command, 'missing', name, 'is required');
    }
  }
  return undefined;
}

/** The expected shape, worded for the error's message (the reply carries only the reason). */
function shape(def: ParamDefinition): string {
  if (def.type === 'integer') return `a plain decimal integer from ${def.min ?? 0} to 2^53-1`;
  if (def.type === 'name') return 'a name [A-Za-z0-9][A-Za-z0-9._-]{0,63}';
  if (def.type === 'command') return 'a command name [A-Z][A-Z0-9_]*';
  if (def.type === 'list') return 'a comma-separated list without empty items';
  if (def.type === 'timestamp') return 'a timestamp sec[.fraction]';
  if (def.type === 'boolean') return 'true, false, 1 or 0';
  return `of type ${def.type}`;
}
