/**
 * Encoding a message for the wire. Streams write the line and the body as two buffers (the
 * body is never copied); datagram transports need the whole message in one buffer.
 */

import { formatLine } from './line.js';
import type { Message } from './message.js';

/** The line, then the body when there is one: ready for a corked stream write. */
export function encodeMessage(msg: Message): Buffer[] {
  const line = Buffer.from(formatLine(msg), 'utf8');
  return msg.body === undefined || msg.body.length === 0 ? [line] : [line, msg.body];
}

/** The whole message in one buffer, for one datagram or one WebSocket message. */
export function encodeMessageToBuffer(msg: Message): Buffer {
  const parts = encodeMessage(msg);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
