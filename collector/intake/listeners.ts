/**
 * The collector's listeners, one per configured address, each with its session slots
 * (max_connections). A stream listener admits CONTROL_HEADROOM sockets beyond its data slots,
 * for control commands.
 */

import { LogwireError } from '../../shared/errors.js';
import type { Link } from '../../shared/net/link.js';
import { type Listener, type ListenLimits, type ListenOptions, listen } from '../../shared/net/listener.js';
import { formatAddress, type Scheme } from '../../shared/protocol/address.js';
import { DEFAULT_MAX_BODY } from '../../shared/protocol/limits.js';
import { requireAllow } from '../access/access-config.js';
import type { ListenerAccess } from '../access/listener-access.js';
import type { CollectorConfig, ListenerConfig } from '../config/config-types.js';
import { CONTROL_HEADROOM, DataSlots } from './data-slots.js';
import { originPolicy } from './origin-policy.js';

/** A listener's new link, with the listener's settings, session slots and access rules. */
export type OnLink = (listener: ListenerConfig, slots: DataSlots, access: ListenerAccess, link: Link) => void;

/** Makes the access rules of the listener at `index` (allow list, tokens, per-peer limits, rate). */
export type AccessFor = (index: number) => ListenerAccess;

/** Opens an `http/` listener (intake/http-intake.ts): it takes requests, not links. */
export type OpenHttp = (
  listener: ListenerConfig,
  index: number,
  limits: ListenLimits,
  access: ListenerAccess,
) => Promise<Listener>;

function listenLimits(config: CollectorConfig, scheme: Scheme): ListenLimits {
  const headroom = scheme === 'udp' || scheme === 'ndjson' || scheme === 'http' ? 0 : CONTROL_HEADROOM;
  return { maxConnections: config.maxConnections + headroom, idleTimeout: config.idleTimeout };
}

/** Node's own listen backlog, kept as the floor. */
const NODE_BACKLOG = 511;

/**
 * The kernel's queue of connections not yet accepted: room for every connection the listener
 * admits (the kernel caps it at net.core.somaxconn). With Node's 511, a burst of a thousand
 * clients connecting at once while the event loop is busy overflows it, and each connection
 * dropped there waits a whole SYN retransmission (1 s, then 3 s) before it is even seen.
 */
function acceptBacklog(limits: ListenLimits): number {
  const admitted = limits.maxConnections ?? 0;
  return Number.isSafeInteger(admitted) && admitted > NODE_BACKLOG ? admitted : NODE_BACKLOG;
}

/** How the listener at `index` is opened; `config` is read live where RELOAD may change it. */
function listenOptions(config: () => CollectorConfig, index: number, access: ListenerAccess): ListenOptions {
  const now = config();
  const listener = now.listeners[index]!;
  const { scheme } = listener.address;
  const limits = listenLimits(now, scheme);
  return {
    ...limits,
    backlog: acceptBacklog(limits),
    handshakeTimeout: now.handshakeTimeout,
    acceptRemote: access.acceptRemote,
    ...(listener.tls === undefined
      ? {}
      : // An ndjson listener with tls_ca requires client certificates signed by it.
        { tls: { ...listener.tls, requestCert: scheme === 'ndjson' && listener.tls.ca !== undefined } }),
    ...(listener.unix === undefined ? {} : { unix: listener.unix }),
    ...(scheme === 'ws' || scheme === 'wss'
      ? // ws buffers whole messages: bound each to one protocol message (§8), whose numbered
        // body may reach 16 MiB whatever max_body (§3).
        {
          ws: {
            path: listener.address.path ?? '/',
            maxPayload: now.maxLine + 1 + Math.max(now.maxBody, DEFAULT_MAX_BODY),
            // Read at each upgrade: RELOAD may change allow_origins and token (not the listeners).
            acceptOrigin: originPolicy(
              () => config().listeners[index]?.allowOrigins ?? [],
              () => access.tokens().required,
            ),
          },
        }
      : {}),
  };
}

export class Listeners {
  readonly #accessFor: AccessFor;
  readonly #listeners: Listener[] = [];
  /** Each listener's session slots, in the order of #listeners. */
  readonly #slots: DataSlots[] = [];

  constructor(accessFor: AccessFor) {
    this.#accessFor = accessFor;
  }

  /**
   * Opens every configured listener, or none: LW_ERR_LISTEN names the one that failed. A listener
   * open to other hosts needs an allow list; a socket handed over by systemd is known only once
   * bound, so the rule (config.ts checks the others) is checked here again.
   */
  async open(config: () => CollectorConfig, onLink: OnLink, openHttp: OpenHttp): Promise<void> {
    try {
      for (const [index, listener] of config().listeners.entries()) {
        const slots = new DataSlots(config().maxConnections);
        this.#slots.push(slots);
        const access = this.#accessFor(index);
        const opened =
          listener.address.scheme === 'http'
            ? await openHttp(listener, index, listenLimits(config(), 'http'), access)
            : await listen(listener.address, listenOptions(config, index, access), (link) =>
                onLink(listener, slots, access, link),
              );
        this.#listeners.push(opened);
        const { activation: _handedOver, ...bound } = opened.address;
        requireAllow(bound, listener.access?.allow ?? config().allow, `listen[${index}]`);
      }
    } catch (error) {
      await this.close();
      throw error instanceof LogwireError
        ? error
        : new LogwireError('LW_ERR_LISTEN', String(error), { cause: error });
    }
  }

  get count(): number {
    return this.#listeners.length;
  }

  /** The bound addresses (port 0 resolved). */
  addresses(): string[] {
    return this.#listeners.map((l) => formatAddress(l.address));
  }

  /** RELOAD: max_connections and idle_timeout apply to the listeners and their session slots. */
  setLimits(config: CollectorConfig): void {
    this.#listeners.forEach((listener, i) => {
      listener.setLimits(listenLimits(config, listener.address.scheme));
      this.#slots[i]!.limit = config.maxConnections;
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#listeners.map((l) => l.close()));
  }
}
