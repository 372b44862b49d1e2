/**
 * One message line (PROTOCOL.md §1): `[<server:service ][[server:]service/]COMMAND[ a=1;b="x;y"]`.
 * Parsing works on the line without its LF (and without a CR before it); formatting returns the
 * line with its LF. Bodies are framed around lines by the frame decoder and the encoder.
 */

import { LogwireError, ProtocolError } from '../errors.js';
import { formatValue, unescapeValue } from './escape.js';
import type { Destination, Message, Origin, Params } from './message.js';

const LABEL = '[A-Za-z0-9_][A-Za-z0-9._-]*';
/** The head of a line: optional origin, optional destination, the command. */
export const HEAD = new RegExp(
  `^(?:<(${LABEL}):(${LABEL}) )?(?:(?:(${LABEL}):)?(${LABEL})/)?([A-Z][A-Z0-9_]*)`,
);
const COMMAND_RE = /^[A-Z][A-Z0-9_]*$/;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_RE = new RegExp(`^${LABEL}$`);

function invalid(reason: string, detail: string): ProtocolError {
  return new ProtocolError('LW_ERR_BAD_LINE', `unparsable line: ${detail}`, {
    fatal: false,
    reply: { command: 'INVALID', params: { reason } },
  });
}

/** Parses one line (no LF). Throws a non-fatal ProtocolError whose reply names the reason. */
export function parseLine(text: string): Message {
  const head = HEAD.exec(text);
  if (head === null)
    throw invalid(
      'bad_command',
      'a line starts with an optional origin and destination, then an UPPERCASE command',
    );
  const [whole, originServer, originService, destServer, destService, command] = head;
  let pos = whole.length;
  if (pos < text.length && text.charCodeAt(pos) !== 0x20) {
    throw invalid(
      'bad_command',
      `command ${JSON.stringify(text.slice(0, pos + 1))} must be followed by a space or the end of the line`,
    );
  }
  pos += 1;
  const params: Params = Object.create(null);
  while (pos < text.length) {
    const eq = text.indexOf('=', pos);
    if (eq === -1) throw invalid('bad_param', `parameter ${JSON.stringify(text.slice(pos))} has no '='`);
    const name = text.slice(pos, eq);
    if (!NAME_RE.test(name)) throw invalid('bad_param_name', `bad parameter name ${JSON.stringify(name)}`);
    let value: string | undefined;
    if (text.charCodeAt(eq + 1) === 0x22) {
      const close = findClosingQuote(text, eq + 2);
      if (close === -1) throw invalid('bad_quote', `the quoted value of ${name} has no closing quote`);
      value = unescapeValue(text, eq + 2, close, true);
      pos = close + 1;
      if (pos < text.length && text.charCodeAt(pos) !== 0x3b) {
        throw invalid('bad_quote', `only ';' or the end of the line may follow the quoted value of ${name}`);
      }
      pos += 1;
    } else {
      const semicolon = text.indexOf(';', eq + 1);
      const end = semicolon === -1 ? text.length : semicolon;
      value = unescapeValue(text, eq + 1, end, false);
      pos = end + 1;
    }
    if (value === undefined)
      throw invalid('bad_escape', `the value of ${name} has a backslash that is not \\\\, \\n or \\r`);
    params[name] = value;
  }
  const msg: { -readonly [K in keyof Message]: Message[K] } = { command: command!, params };
  if (originServer !== undefined && originService !== undefined) {
    msg.origin = { server: originServer, service: originService } satisfies Origin;
  }
  if (destService !== undefined) {
    msg.dest = (
      destServer === undefined ? { service: destService } : { server: destServer, service: destService }
    ) satisfies Destination;
  }
  return msg;
}

/** Index of the quote closing a value that starts at `from`, skipping escaped characters. */
export function findClosingQuote(text: string, from: number): number {
  let pos = from;
  for (;;) {
    const quote = text.indexOf('"', pos);
    if (quote === -1) return -1;
    const backslash = text.indexOf('\\', pos);
    if (backslash === -1 || backslash > quote) return quote;
    pos = backslash + 2;
  }
}

/**
 * Formats a message's line with its LF. When the message has a body, `bytes` is set from it;
 * `bytes` without a body is refused, since it is reserved for framing (PROTOCOL.md §2).
 */
export function formatLine(msg: Message): string {
  if (!COMMAND_RE.test(msg.command))
    throw badWrite(`command ${JSON.stringify(msg.command)} is not UPPER_CASE`);
  let line = '';
  if (msg.origin !== undefined) line += `<${label(msg.origin.server)}:${label(msg.origin.service)} `;
  if (msg.dest !== undefined) {
    line += msg.dest.server === undefined ? '' : `${label(msg.dest.server)}:`;
    line += `${label(msg.dest.service)}/`;
  }
  line += msg.command;
  let separator = ' ';
  for (const name in msg.params) {
    if (name === 'bytes') {
      if (msg.body === undefined)
        throw badWrite(`${msg.command}: bytes is reserved for framing and needs a body`);
      continue;
    }
    if (!NAME_RE.test(name))
      throw badWrite(`${msg.command}: parameter name ${JSON.stringify(name)} is not [A-Za-z_][A-Za-z0-9_]*`);
    line += `${separator}${name}=${formatValue(msg.params[name]!)}`;
    separator = ';';
  }
  if (msg.body !== undefined) line += `${separator}bytes=${msg.body.length}`;
  return `${line}\n`;
}

function label(value: string): string {
  if (!LABEL_RE.test(value))
    throw badWrite(`origin/destination label ${JSON.stringify(value)} is not ${LABEL}`);
  return value;
}

function badWrite(message: string): LogwireError {
  return new LogwireError('LW_ERR_BAD_PARAM', `cannot format message: ${message}`);
}
