/**
 * Log lines about a peer's bad input (bad datagrams, bad lines), at most `perInterval` per peer
 * per `intervalMs`: a peer sending garbage as fast as it can must not flood the collector's log
 * (or its disk). What is held back is said once, in one line per peer when its interval ends:
 *
 *   [… WARN logwire/host] suppressed 4211 more lines about bad input from udp/10.0.0.7 {…}
 *
 * A peer is its transport and address without the port, so a flood from many source ports of one
 * host counts as one peer. The table is bounded (`maxPeers`); past it, new peers share one entry.
 */

import type { PeerInfo } from '../../shared/protocol/peer.js';
import type { CollectorLog } from '../config/config-types.js';

export const DEFAULT_LINES_PER_PEER = 10;
export const DEFAULT_LOG_INTERVAL_MS = 60_000;
const DEFAULT_MAX_PEERS = 1024;
const OTHER_PEERS = 'other peers';

export interface PeerLogLimitOptions {
  readonly perInterval?: number;
  readonly intervalMs?: number;
  readonly maxPeers?: number;
  /** ms; injected by tests. Default Date.now. */
  readonly clock?: () => number;
}

interface Interval {
  readonly start: number;
  logged: number;
  suppressed: number;
}

export class PeerLogLimit {
  readonly #log: CollectorLog;
  readonly #perInterval: number;
  readonly #intervalMs: number;
  readonly #maxPeers: number;
  readonly #clock: () => number;
  /** By peer, oldest interval first (an entry is deleted when its interval ends, never moved). */
  readonly #intervals = new Map<string, Interval>();

  constructor(log: CollectorLog, options: PeerLogLimitOptions = {}) {
    this.#log = log;
    this.#perInterval = options.perInterval ?? DEFAULT_LINES_PER_PEER;
    this.#intervalMs = options.intervalMs ?? DEFAULT_LOG_INTERVAL_MS;
    this.#maxPeers = options.maxPeers ?? DEFAULT_MAX_PEERS;
    this.#clock = options.clock ?? Date.now;
  }

  /** Logs `msg` as a warning about `peer`'s input, unless that peer used up its lines. */
  warn(peer: PeerInfo, msg: string, fields: Record<string, unknown> = {}): void {
    const now = this.#clock();
    this.flush(now);
    let key = peerKey(peer);
    if (!this.#intervals.has(key) && this.#intervals.size >= this.#maxPeers) key = OTHER_PEERS;
    let interval = this.#intervals.get(key);
    if (interval === undefined) {
      interval = { start: now, logged: 0, suppressed: 0 };
      this.#intervals.set(key, interval);
    }
    if (interval.logged < this.#perInterval) {
      interval.logged += 1;
      this.#log.warn(msg, { peer: key, ...fields });
    } else interval.suppressed += 1;
  }

  /** Ends the intervals that are over, saying how many lines each held back. A timer calls it too. */
  flush(now: number = this.#clock()): void {
    for (const [key, interval] of this.#intervals) {
      if (now - interval.start < this.#intervalMs) break; // the rest began later still
      this.#intervals.delete(key);
      if (interval.suppressed > 0) {
        this.#log.warn(`suppressed ${interval.suppressed} more lines about bad input from ${key}`, {
          peer: key,
          suppressed: interval.suppressed,
          interval_ms: this.#intervalMs,
        });
      }
    }
  }
}

/** `transport/address` without the port (a Unix socket's path as it is). */
function peerKey(peer: PeerInfo): string {
  const address = peer.transport === 'unix' ? peer.remote : peer.remote.replace(/:\d+$/, '');
  return `${peer.transport}/${address}`;
}
