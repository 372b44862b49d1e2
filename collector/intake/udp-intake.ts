/**
 * EVENTS over UDP (PROTOCOL.md §7): no session, no ACK, no reply. The datagram names its
 * source, service and host; every batch is written, and its numbers feed only a loss counter
 * kept apart from the high-water marks that sessions move.
 */

import { isName } from '../../shared/protocol/accessors.js';
import type { Message } from '../../shared/protocol/message.js';
import type { PeerInfo } from '../../shared/protocol/peer.js';
import type { CollectorConfig } from '../config/config-types.js';
import type { CollectorCounters } from '../counters.js';
import { lastRecordNumber } from '../writer/write-job.js';
import type { Writer } from '../writer/writer.js';
import type { PeerLogLimit } from './peer-log-limit.js';

/** What the UDP intake needs of the running collector. */
export interface UdpDeps {
  /** pause_above, read at each datagram (RELOAD). */
  readonly config: () => Pick<CollectorConfig, 'pauseAbove'>;
  readonly writer: Pick<Writer, 'submit' | 'queuedBytes'>;
  readonly counters: Pick<CollectorCounters, 'batches' | 'datagramsDropped' | 'protocolErrors'>;
  /** STOP began: datagrams are no longer taken. */
  readonly stopping: () => boolean;
  readonly badInputLog: Pick<PeerLogLimit, 'warn'>;
}

export function acceptUdpEvents(msg: Message, peer: PeerInfo, deps: UdpDeps): void {
  const { source, service, host: hostname, seq, count } = msg.params;
  // No session to PAUSE and no reading to stop: past twice pause_above, datagrams are dropped
  // (counted), as the network would drop them, so memory stays bounded.
  const full = deps.writer.queuedBytes > 2 * deps.config().pauseAbove;
  if (
    full ||
    deps.stopping() ||
    !isName(source ?? '') ||
    !isName(service ?? '') ||
    !isName(hostname ?? '') ||
    msg.body === undefined
  ) {
    deps.counters.datagramsDropped += 1;
    return;
  }
  const first = Number(seq);
  const records = Number(count);
  // Numbers stop at 2^53 − 1 (§1): a batch ending past it is refused, not rounded.
  if (lastRecordNumber(first, records) === undefined) {
    deps.counters.datagramsDropped += 1;
    deps.counters.protocolErrors += 1;
    deps.badInputLog.warn(peer, `protocol error from udp/${peer.remote}: EVENTS ends past 2^53 − 1`, {
      seq: first,
      count: records,
    });
    return;
  }
  deps.counters.batches += 1;
  deps.writer.submit({
    route: { source: source!, service: service!, host: hostname! },
    seq: first,
    count: records,
    body: msg.body,
    mode: 'udp',
    done: () => {},
    fail: () => {},
  });
}
