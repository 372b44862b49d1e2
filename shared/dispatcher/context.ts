/**
 * What a handler knows of the peer a message came from, and how it answers. The messenger
 * makes one per connection (or per datagram); the dispatcher knows no transport.
 */

import type { PeerInfo } from '../net/peer.js';
import type { Message } from '../protocol/message.js';

export type { PeerInfo } from '../net/peer.js';

export interface DispatchContext {
  /** Sends a message back to the peer; a no-op over UDP (nothing answers a datagram, §7). */
  reply(msg: Message): void;
  readonly peer: PeerInfo;
}
