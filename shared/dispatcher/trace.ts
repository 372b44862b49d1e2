/**
 * What the dispatcher's `trace` option sees of a received message: its command, labels and
 * parameters, with secrets masked, and the body's length but never the body (records may hold
 * anything, and a trace must not copy them). PROTOCOL.md §5: `token` and `secret_code` never
 * appear in logs.
 */

import type { Destination, Message, Origin } from '../protocol/message.js';
import { maskParams } from '../protocol/secrets.js';
import type { PeerInfo } from './context.js';

export interface TraceEntry {
  readonly command: string;
  readonly origin?: Origin;
  readonly dest?: Destination;
  /** A copy of the parameters, secret values replaced by MASK. */
  readonly params: Readonly<Record<string, string>>;
  /** Octets in the body, undefined when there is none. */
  readonly bodyLength?: number;
  readonly peer: PeerInfo;
}

export function traceEntry(msg: Message, peer: PeerInfo): TraceEntry {
  const params = maskParams(msg.params);
  const entry: { -readonly [K in keyof TraceEntry]: TraceEntry[K] } = { command: msg.command, params, peer };
  if (msg.origin !== undefined) entry.origin = msg.origin;
  if (msg.dest !== undefined) entry.dest = msg.dest;
  if (msg.body !== undefined) entry.bodyLength = msg.body.length;
  return entry;
}
