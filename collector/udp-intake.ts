/**
 * EVENTS over UDP (PROTOCOL.md §7): no session, no ACK, no reply. The datagram names its
 * source, service and host; every batch is written, and its numbers feed only a loss counter
 * kept apart from the high-water marks that sessions move.
 */

import { isName } from '../shared/protocol/accessors.js';
import type { Message } from '../shared/protocol/message.js';
import type { SessionHost } from './session-host.js';

export function acceptUdpEvents(msg: Message, host: SessionHost): void {
  const { source, service, host: hostname, seq, count } = msg.params;
  // No session to PAUSE and no reading to stop: past twice pause_above, datagrams are dropped
  // (counted), as the network would drop them, so memory stays bounded.
  const full = host.writer.queuedBytes > 2 * host.config().pauseAbove;
  if (
    full ||
    host.stopping() ||
    !isName(source ?? '') ||
    !isName(service ?? '') ||
    !isName(hostname ?? '') ||
    msg.body === undefined
  ) {
    host.counters.datagramsDropped += 1;
    return;
  }
  host.counters.batches += 1;
  host.writer.submit({
    route: { source: source!, service: service!, host: hostname! },
    seq: Number(seq),
    count: Number(count),
    body: msg.body,
    mode: 'udp',
    done: () => {},
    fail: () => {},
  });
}
