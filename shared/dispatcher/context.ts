/**
 * What a handler knows of the peer a message came from, and how it answers. The messenger
 * makes one per connection (or per datagram); the dispatcher knows no transport.
 */

import type { Message } from '../protocol/message.js';
import type { PeerInfo } from '../protocol/peer.js';

export type { PeerInfo } from '../protocol/peer.js';

export interface DispatchContext {
  /** Sends a message back to the peer; a no-op over UDP (nothing answers a datagram, §7). */
  reply(msg: Message): void;
  readonly peer: PeerInfo;
}
