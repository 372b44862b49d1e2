/**
 * EVENTS over UDP (PROTOCOL.md §7): no session, no ACK, no reply. The datagram names its
 * source, service and host; every batch is written, and its numbers feed only a loss counter
 * kept apart from the high-water marks that sessions move.
 */

import type { PeerInfo } from '../../shared/net/peer.js';
import { isName } from '../../shared/protocol/accessors.js';
import type { Message } from '../../shared/protocol/message.js';
import { lastRecordNumber } from '../writer/write-job.js';
import type { SessionHost } from './session-host.js';

export function acceptUdpEvents(msg: Message, peer: PeerInfo, host: SessionHost): void {
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
  const first = Number(seq);
  const records = Number(count);
  // Numbers stop at 2^53 − 1 (§1): a batch ending past it is refused, not rounded.
  if (lastRecordNumber(first, records) === undefined) {
    host.counters.datagramsDropped += 1;
    host.counters.protocolErrors += 1;
    host.badInputLog.warn(peer, `protocol error from udp/${peer.remote}: EVENTS ends past 2^53 − 1`, {
      seq: first,
      count: records,
    });
    return;
  }
  host.counters.batches += 1;
  host.writer.submit({
    route: { source: source!, service: service!, host: hostname! },
    seq: first,
    count: records,
    body: msg.body,
    mode: 'udp',
    done: () => {},
    fail: () => {},
  });
}
