/**
 * A listener's access rules at work, read live from the configuration (RELOAD changes them for
 * the next connection or datagram): who may connect (allow list, checked by the listener before
 * any handshake), how many connections one peer may hold, which tokens are accepted, and the
 * ingest rate of each connection.
 */

import type { Clock } from '../../shared/net/clock.js';
import type { Link } from '../../shared/net/link.js';
import type { CollectorConfig, ListenerConfig } from '../config/config-types.js';
import { AllowList } from './allow-list.js';
import { IngestRate } from './ingest-rate.js';
import { NdjsonTokenGate } from './ndjson-token-gate.js';
import { PeerConnections, peerHost } from './peer-limits.js';
import { TokenCheck } from './token-check.js';

/** What access control refused or held back, for STATUS and /metrics. */
export interface AccessCounters {
  /** Connections and datagrams from addresses outside the allow list. */
  refusedAddress: number;
  /** REGISTERs, datagrams and ndjson connections without an accepted token. */
  refusedToken: number;
  /** Connections beyond max_connections_per_peer. */
  refusedPerPeer: number;
  /** Times a connection was held back by its rate_limit. */
  rateHeld: number;
}

export function createAccessCounters(): AccessCounters {
  return { refusedAddress: 0, refusedToken: 0, refusedPerPeer: 0, rateHeld: 0 };
}

export interface AccessDeps {
  readonly config: () => CollectorConfig;
  readonly listener: () => ListenerConfig;
  readonly counters: AccessCounters;
  /** Stop and resume reading a link (the collector's read gate, reason `rate`). */
  readonly hold: (link: Link) => void;
  readonly release: (link: Link) => void;
  readonly clock: Clock;
}

/** Parsed once per list: the config is frozen, so the same array means the same rules. */
function cached<I, O>(make: (input: I) => O): (input: I) => O {
  let last: { input: I; output: O } | undefined;
  return (input) => {
    if (last === undefined || last.input !== input) last = { input, output: make(input) };
    return last.output;
  };
}

/**
 * A check of peer addresses against an allow list read live (`allow` undefined: a loopback
 * listener, config.ts refuses the others, so every address is admitted). Counts refusals.
 */
export function remoteCheck(
  allow: () => readonly string[] | undefined,
  counters: Pick<AccessCounters, 'refusedAddress'>,
): (host: string) => boolean {
  const parsed = cached((list: readonly string[] | undefined) =>
    list === undefined ? undefined : AllowList.parse(list),
  );
  return (host) => {
    const rules = parsed(allow());
    if (rules === undefined || rules.admits(host)) return true;
    counters.refusedAddress += 1;
    return false;
  };
}

export class ListenerAccess {
  readonly #deps: AccessDeps;
  readonly #peers: PeerConnections;
  readonly #tokens = cached((list: readonly string[] | undefined) => new TokenCheck(list));

  /** The listener's check of a peer address, before anything is read from it. */
  readonly acceptRemote: (host: string) => boolean;

  constructor(deps: AccessDeps) {
    this.#deps = deps;
    this.#peers = new PeerConnections(undefined);
    this.acceptRemote = remoteCheck(
      () => deps.listener().access?.allow ?? deps.config().allow,
      deps.counters,
    );
  }

  /** The tokens this listener accepts now. */
  tokens(): TokenCheck {
    return this.#tokens(this.#deps.listener().access?.token ?? this.#deps.config().token);
  }

  /**
   * Applies the per-connection rules to a new stream link: the link to read from (an ndjson
   * link behind its token gate), or undefined when it was refused (and destroyed).
   */
  admit(link: Link): Link | undefined {
    const { config, listener, counters } = this.#deps;
    const access = listener().access;
    if (link.peer.transport === 'udp') return link;
    if (link.peer.transport !== 'unix') {
      this.#peers.limit = access?.maxConnectionsPerPeer ?? config().maxConnectionsPerPeer;
      const giveBack = this.#peers.take(peerHost(link.peer.remote));
      if (giveBack === undefined) {
        counters.refusedPerPeer += 1;
        link.destroy();
        return undefined;
      }
      link.once('close', giveBack);
    }
    const tokens = this.tokens();
    const read =
      link.peer.transport !== 'ndjson' || !tokens.required
        ? link
        : new NdjsonTokenGate(link, tokens, () => {
            counters.refusedToken += 1;
          });
    // The rate is held on the link the collector reads, so that one read gate decides for it.
    const limit = access?.rateLimit ?? config().rateLimit;
    if (limit !== undefined) this.#limitRate(read, limit);
    return read;
  }

  #limitRate(link: Link, limit: NonNullable<CollectorConfig['rateLimit']>): void {
    const { hold, release, clock, counters } = this.#deps;
    const rate = new IngestRate(limit, clock, {
      hold: () => hold(link),
      release: () => release(link),
      onHeld: () => {
        counters.rateHeld += 1;
      },
    });
    link.on('data', (chunk) => rate.received(chunk.length));
    link.once('close', () => rate.close());
  }
}
