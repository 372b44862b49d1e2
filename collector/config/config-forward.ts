/**
 * The forward output's keys (docs/collector.md "Relay (forward)"): `forward`, a failover list of
 * upstream collectors' addresses (`--forward`, repeatable, replaces it), `forward_window` and
 * `forward_spool_max_bytes`. Any forward address replaces the default file output; files are
 * written too only when the output directory is given (`--output` or `output`).
 */

import { LogwireError } from '../../shared/errors.js';
import { type Address, parseAddress } from '../../shared/protocol/address.js';
import { configError, describe, type Table } from './config-values.js';

export interface ForwardConfig {
  readonly addresses: readonly Address[];
  /** Bytes in flight upstream per relayed source. */
  readonly window: number;
  /** Spool bytes above which the relay holds its writes (and so PAUSEs its clients). */
  readonly spoolMaxBytes: number;
  /** Token sent in each upstream REGISTER. */
  readonly token?: string;
}

export const FORWARD_DEFAULTS = Object.freeze({
  window: 1024 * 1024,
  spoolMaxBytes: 256 * 1024 * 1024,
});

export const FORWARD_KEYS: readonly string[] = [
  'forward',
  'forward_window',
  'forward_spool_max_bytes',
  'forward_token',
];

/** The forward settings, or undefined when no upstream is named. */
export function readForward(
  table: Table,
  flags: readonly string[] | undefined,
  where: string,
): ForwardConfig | undefined {
  const fromFlags = flags !== undefined && flags.length > 0;
  const list = fromFlags ? flags : addressList(table.forward, where);
  if (list.length === 0) return undefined;
  const label = fromFlags ? '--forward' : `${where}forward`;
  const addresses = list.map((text) => {
    try {
      return parseAddress(text);
    } catch (err) {
      if (!(err instanceof LogwireError)) throw err;
      throw configError(`${label}: ${err.message}`, err);
    }
  });
  for (const address of addresses)
    if (address.scheme === 'udp' || address.scheme === 'ndjson')
      throw configError(
        `${label}: ${address.scheme} cannot carry acknowledged batches; use tcp, tls, unix or ws`,
      );
  const token = table.forward_token;
  if (token !== undefined && (typeof token !== 'string' || token === ''))
    throw configError(`${where}forward_token must be a non-empty string (got ${typeof token})`);
  return {
    addresses,
    window: size(table, 'forward_window', where) ?? FORWARD_DEFAULTS.window,
    spoolMaxBytes: size(table, 'forward_spool_max_bytes', where) ?? FORWARD_DEFAULTS.spoolMaxBytes,
    ...(token === undefined ? {} : { token }),
  };
}

function addressList(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string'))
    throw configError(
      `${where}forward must be an address or a list of addresses, like forward = ["tcp/central:4043"] (got ${describe(value)})`,
    );
  return list;
}

function size(table: Table, key: string, where: string): number | undefined {
  const value = table[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw configError(`${where}${key} must be a whole number of bytes, at least 1 (got ${describe(value)})`);
  return value;
}
