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
import type { CollectorConfig, ListenerConfig } from '../config/config-types.js';
import { CONTROL_HEADROOM, DataSlots } from './data-slots.js';
import { originPolicy } from './origin-policy.js';

/** A listener's new link, with the listener's settings and session slots. */
export type OnLink = (listener: ListenerConfig, slots: DataSlots, link: Link) => void;

function listenLimits(config: CollectorConfig, scheme: Scheme): ListenLimits {
  const headroom = scheme === 'udp' || scheme === 'ndjson' ? 0 : CONTROL_HEADROOM;
  return { maxConnections: config.maxConnections + headroom, idleTimeout: config.idleTimeout };
}

/** How the listener at `index` is opened; `config` is read live where RELOAD may change it. */
function listenOptions(config: () => CollectorConfig, index: number): ListenOptions {
  const now = config();
  const listener = now.listeners[index]!;
  const { scheme } = listener.address;
  return {
    ...listenLimits(now, scheme),
    handshakeTimeout: now.handshakeTimeout,
    ...(listener.tls === undefined ? {} : { tls: listener.tls }),
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
              () => config().token,
            ),
          },
        }
      : {}),
  };
}

export class Listeners {
  readonly #listeners: Listener[] = [];
  /** Each listener's session slots, in the order of #listeners. */
  readonly #slots: DataSlots[] = [];

  /** Opens every configured listener, or none: LW_ERR_LISTEN names the one that failed. */
  async open(config: () => CollectorConfig, onLink: OnLink): Promise<void> {
    try {
      for (const [index, listener] of config().listeners.entries()) {
        const slots = new DataSlots(config().maxConnections);
        this.#slots.push(slots);
        this.#listeners.push(
          await listen(listener.address, listenOptions(config, index), (link) =>
            onLink(listener, slots, link),
          ),
        );
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
