/**
 * One message per datagram or WebSocket message (PROTOCOL.md §7–8): a line, its LF optional
 * when no body follows; with `bytes=N`, exactly N octets must follow the LF.
 */

import { ProtocolError } from '../errors.js';
import { bodyLimit, DEFAULT_LIMITS, type FrameLimits, parseByteCount } from './limits.js';
import { parseLine } from './line.js';
import type { Message } from './message.js';

/** Decodes one whole datagram. Throws ProtocolError (never fatal: a datagram stands alone). */
export function decodeDatagram(packet: Buffer, limits: Partial<FrameLimits> = {}): Message {
  const all = { ...DEFAULT_LIMITS, ...limits };
  const { maxLine } = all;
  const lf = packet.indexOf(0x0a);
  let lineEnd = lf === -1 ? packet.length : lf;
  if (lineEnd > 0 && packet[lineEnd - 1] === 0x0d) lineEnd -= 1;
  if (lineEnd > maxLine) {
    throw new ProtocolError('LW_ERR_LINE_TOO_LONG', `a datagram's line is longer than ${maxLine} bytes`, {
      fatal: false,
      reply: { command: 'INVALID', params: { reason: 'too_large' } },
    });
  }
  const msg = parseLine(packet.toString('utf8', 0, lineEnd));
  const bytes = msg.params.bytes;
  const after = lf === -1 ? 0 : packet.length - lf - 1;
  if (bytes === undefined) {
    if (after > 0)
      throw datagramError(
        'LW_ERR_BAD_BYTES',
        msg,
        'trailing_bytes',
        `${after} octets follow a line without bytes`,
      );
    return msg;
  }
  const count = parseByteCount(bytes);
  if (count === undefined)
    throw datagramError(
      'LW_ERR_BAD_BYTES',
      msg,
      'bad_bytes',
      `bytes=${JSON.stringify(bytes)} is not a plain decimal number`,
    );
  if (count !== after)
    throw datagramError(
      'LW_ERR_BAD_BYTES',
      msg,
      'bad_bytes',
      `bytes=${count} but ${after} octets follow the line`,
    );
  const maxBody = bodyLimit(msg, all);
  if (count > maxBody)
    throw datagramError(
      'LW_ERR_BODY_TOO_LARGE',
      msg,
      'too_large',
      `body of ${count} bytes is over ${maxBody}`,
    );
  return { ...msg, body: packet.subarray(lf + 1) };
}

function datagramError(
  code: 'LW_ERR_BAD_BYTES' | 'LW_ERR_BODY_TOO_LARGE',
  msg: Message,
  reason: string,
  detail: string,
): ProtocolError {
  return new ProtocolError(code, `${msg.command} datagram dropped: ${detail}`, {
    fatal: false,
    reply: { command: 'INVALID', params: { command: msg.command, reason } },
  });
}

/** The line of a datagram whose body was refused as too large, to report it (never throws). */
export function datagramHead(packet: Buffer): Message | undefined {
  const lf = packet.indexOf(0x0a);
  try {
    return parseLine(packet.toString('utf8', 0, lf === -1 ? packet.length : lf));
  } catch {
    return undefined;
  }
}
