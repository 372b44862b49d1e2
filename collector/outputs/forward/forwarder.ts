/**
 * The relay's sessions upstream: one UpstreamSession (one permanent client) per original source
 * that has records in the spool, made when its first batch is committed (or found in the spool at
 * start) and kept while the collector runs, so each source's numbering reaches the upstream
 * unchanged. STATUS reads the sessions' states as one `forward_state`.
 */

import type { PermanentClientOptions } from '../../../shared/net/permanent-client.js';
import type { Address } from '../../../shared/protocol/address.js';
import type { RelaySpool } from './relay-spool.js';
import type { SpooledBatch } from './spool-entry.js';
import { UpstreamSession, type UpstreamState } from './upstream-session.js';

export interface ForwarderSettings {
  /** The failover list, in order. */
  readonly addresses: readonly Address[];
  readonly registerTimeout: number;
  readonly token?: string;
  /** Passed to each permanent client (backoff, timeouts, heartbeat, clock, tls). */
  readonly client?: Omit<PermanentClientOptions, 'addresses' | 'handshake'>;
  readonly warn: (msg: string, fields?: Record<string, unknown>) => void;
}

/** The worst state first: what `forward_state` shows when sessions differ. */
const SHOWN: readonly UpstreamState[] = ['lost', 'connecting', 'registering', 'paused', 'ready', 'closed'];

/** Every state `state()` may report (the `logwire_forward_state` gauge's values). */
export const FORWARD_STATES: readonly string[] = ['idle', ...SHOWN];

export class Forwarder {
  readonly #spool: RelaySpool;
  readonly #settings: ForwarderSettings;
  readonly #onFreed: () => void;
  readonly #sessions = new Map<string, UpstreamSession>();
  #closed = false;

  constructor(spool: RelaySpool, settings: ForwarderSettings, onFreed: () => void) {
    this.#spool = spool;
    this.#settings = settings;
    this.#onFreed = onFreed;
    for (const source of spool.sourceIds()) this.#session(source);
  }

  get sessions(): number {
    return this.#sessions.size;
  }

  /** `idle` with no session yet, else the least advanced state among the sessions. */
  state(): string {
    const states = new Set([...this.#sessions.values()].map((session) => session.state));
    return SHOWN.find((state) => states.has(state)) ?? 'idle';
  }

  /** Batches now committed to the spool: their sources' sessions send them. */
  committed(batches: readonly SpooledBatch[]): void {
    const sources = new Set(batches.map((batch) => batch.source));
    for (const source of sources) this.#session(source)?.wake();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#sessions.values()].map((session) => session.close()));
  }

  #session(source: string): UpstreamSession | undefined {
    if (this.#closed) return undefined;
    let session = this.#sessions.get(source);
    if (session === undefined) {
      const { addresses, registerTimeout, token, client, warn } = this.#settings;
      session = new UpstreamSession(source, this.#spool, {
        client: { ...client, addresses },
        registerTimeout,
        ...(token === undefined ? {} : { token }),
        onFreed: this.#onFreed,
        warn,
      });
      this.#sessions.set(source, session);
    }
    return session;
  }
}
