/**
 * The access keys of the collector's configuration, at the top level and in each `[[listen]]`
 * table (a listener's own value wins): `allow` (CIDRs, or "any" written out), `token` (a string
 * or a list), `max_connections_per_peer` and `rate_limit` ("BYTES/MS"). Also the rule that a
 * listener reachable from other hosts opens only with an allow list (deny by default).
 */

import { parseRateLimit, type RateLimitOptions } from '../../shared/net/rate-limit.js';
import { type Address, formatAddress, isLoopbackHost } from '../../shared/protocol/address.js';
import { configError, describe, type Table } from '../config/config-values.js';
import { AllowList } from './allow-list.js';

/** What one listener's table (or the top level) says about access; absent keys are undefined. */
export interface AccessSettings {
  readonly allow?: readonly string[];
  readonly token?: readonly string[];
  readonly maxConnectionsPerPeer?: number;
  readonly rateLimit?: RateLimitOptions;
}

export const ACCESS_KEYS: readonly string[] = ['allow', 'token', 'max_connections_per_peer', 'rate_limit'];

/** Reads the access keys of `table`; `where` prefixes messages (`config.toml: listen[1]: `). */
export function readAccess(table: Table, where: string): AccessSettings {
  const out: { -readonly [K in keyof AccessSettings]: AccessSettings[K] } = {};
  if (table.allow !== undefined) out.allow = allowList(table.allow, `${where}allow`);
  if (table.token !== undefined) out.token = tokens(table.token, `${where}token`);
  const perPeer = table.max_connections_per_peer;
  if (perPeer !== undefined) {
    if (typeof perPeer !== 'number' || !Number.isSafeInteger(perPeer) || perPeer < 1) {
      throw configError(
        `${where}max_connections_per_peer must be a whole number of connections, at least 1, ` +
          `like max_connections_per_peer = 16 (got ${describe(perPeer)})`,
      );
    }
    out.maxConnectionsPerPeer = perPeer;
  }
  if (table.rate_limit !== undefined) out.rateLimit = rateLimit(table.rate_limit, `${where}rate_limit`);
  return out;
}

function rateLimit(value: unknown, what: string): RateLimitOptions {
  const shape = `${what} must be "BYTES/MS", bytes per milliseconds, like rate_limit = "1048576/1000"`;
  if (typeof value !== 'string') throw configError(`${shape} (got ${describe(value)})`);
  try {
    return parseRateLimit(value, 'rate_limit');
  } catch (error) {
    throw configError(`${shape} (got ${describe(value)})`, error);
  }
}

/** `--allow CIDR` flags, checked like the key. */
export function allowFlags(flags: readonly string[]): readonly string[] {
  return allowList(flags, '--allow');
}

function allowList(value: unknown, what: string): readonly string[] {
  const shape = `${what} must be a list of CIDRs, like allow = ["10.0.0.0/8", "2001:db8::/32"], or allow = ["any"]`;
  if (!Array.isArray(value) || value.length === 0) throw configError(`${shape} (got ${describe(value)})`);
  for (const item of value) {
    if (typeof item !== 'string') throw configError(`${shape} (got ${describe(item)} in the list)`);
  }
  const list = value as string[];
  try {
    AllowList.parse(list);
  } catch (error) {
    throw configError(`${what}: ${(error as Error).message}`, error);
  }
  return Object.freeze([...list]);
}

function tokens(value: unknown, what: string): readonly string[] {
  // The values themselves are never echoed: PROTOCOL.md §5 keeps secrets out of every message.
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((t) => typeof t !== 'string' || t === '')) {
    throw configError(
      `${what} must be a non-empty string or a list of them (got ${Array.isArray(value) ? 'a list with something else' : typeof value})`,
    );
  }
  return Object.freeze([...(list as string[])]);
}

/** Whether peers on other hosts can reach `address` (not loopback, not a Unix socket). */
export function reachableFromOtherHosts(address: Address): boolean {
  if (address.scheme === 'unix') return false;
  // A socket systemd hands over is known only once bound: the collector checks its real address then.
  if (address.activation !== undefined) return false;
  return address.host === undefined || !isLoopbackHost(address.host);
}

/**
 * Refuses a listener other hosts can reach without an allow list (its own or the top-level
 * one). `label` names the listener as the configuration does.
 */
export function requireAllow(address: Address, allow: readonly string[] | undefined, label: string): void {
  if (allow !== undefined || !reachableFromOtherHosts(address)) return;
  throw configError(
    `${label}: ${formatAddress(address)} is reachable from other hosts, and no allow list says who may ` +
      'connect; add allow = ["10.0.0.0/8"] (the networks of your senders) to this listener or at the top ' +
      'of the config, or give --allow CIDR; allow = ["any"] opens it to every address',
  );
}
