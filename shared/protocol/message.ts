/**
 * A protocol message (PROTOCOL.md §1–2): one command line with named parameters, plus an
 * optional body that travels after the line, framed by `bytes`.
 */

/** Parameters by name. Null-prototype so a peer's `__proto__=` is just a name. */
export type Params = Record<string, string>;

export interface Origin {
  readonly server: string;
  readonly service: string;
}

export interface Destination {
  /** Absent when the line names only a service (`service/COMMAND`). */
  readonly server?: string;
  readonly service: string;
}

export interface Message {
  readonly origin?: Origin;
  readonly dest?: Destination;
  readonly command: string;
  readonly params: Params;
  /** The octets after the line when `bytes=N` is present: a view, never a copy. */
  readonly body?: Buffer;
}

/** Creates a null-prototype parameter object from plain entries. */
export function params(entries: Record<string, string | number | boolean | undefined> = {}): Params {
  const out: Params = Object.create(null);
  for (const [name, value] of Object.entries(entries)) {
    if (value !== undefined) out[name] = String(value);
  }
  return out;
}

/** Shorthand to build a message: `message('ACK', { seq: 42 })`. */
export function message(
  command: string,
  entries: Record<string, string | number | boolean | undefined> = {},
  body?: Buffer,
): Message {
  return body === undefined
    ? { command, params: params(entries) }
    : { command, params: params(entries), body };
}

/** Commands that are replies: never answered (PROTOCOL.md §5), so two peers can't ping-pong. */
export const REPLY_COMMANDS: ReadonlySet<string> = new Set([
  'OK',
  'ACK',
  'READY',
  'ABSOLUTELY',
  'COMMANDS',
  'UNKNOWN',
  'INVALID',
  'UNAUTHORIZED',
]);
