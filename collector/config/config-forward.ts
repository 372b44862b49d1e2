/**
 * The forward output's settings (docs/collector.md "Relay (forward)"), written two ways:
 *
 *   top level   forward = ["tcp/central:4043"] (`--forward`, repeatable, replaces it),
 *               forward_window, forward_spool_max_bytes, forward_token: one required output
 *               named `forward`. Without [[output]] tables it replaces the default file output;
 *               files are written too only when the output directory is named (`--output`,
 *               `output`, LOGWIRE_OUTPUT). With tables, it is added to them.
 *   [[output]]  type = "forward" with addresses, window, spool_max_bytes, token, and required /
 *               backlog like any output.
 */

import { LogwireError } from '../../shared/errors.js';
import { parseAddress } from '../../shared/protocol/address.js';
import type { ForwardConfig, ForwardOutputConfig } from './config-types.js';
import { configError, describe, type Table } from './config-values.js';

export const FORWARD_DEFAULTS = Object.freeze({
  window: 1024 * 1024,
  spoolMaxBytes: 256 * 1024 * 1024,
  /** The name of the output the top-level keys make. */
  name: 'forward',
});

export const FORWARD_KEYS: readonly string[] = [
  'forward',
  'forward_window',
  'forward_spool_max_bytes',
  'forward_token',
];

/** The keys of an `[[output]]` table of type forward, besides name, type, required, backlog. */
export const FORWARD_TABLE_KEYS = ['addresses', 'window', 'spool_max_bytes', 'token'] as const;

/** How one way of writing the settings names its keys, for the error messages. */
interface KeyNames {
  readonly addresses: string;
  readonly window: string;
  readonly spoolMaxBytes: string;
  readonly token: string;
}

/** The top-level forward settings, or undefined when no upstream is named. */
export function readForward(
  table: Table,
  flags: readonly string[] | undefined,
  where: string,
): ForwardConfig | undefined {
  const fromFlags = flags !== undefined && flags.length > 0;
  const list = fromFlags ? flags : addressList(table.forward, `${where}forward`);
  if (list.length === 0) return undefined;
  const keys = {
    ...{ addresses: fromFlags ? '--forward' : `${where}forward`, window: `${where}forward_window` },
    ...{ spoolMaxBytes: `${where}forward_spool_max_bytes`, token: `${where}forward_token` },
  };
  const values = { window: table.forward_window, spoolMaxBytes: table.forward_spool_max_bytes };
  return forwardSettings(list, { ...values, token: table.forward_token }, keys);
}

/** The required output the top-level keys make. */
export function forwardOutput(forward: ForwardConfig): ForwardOutputConfig {
  return { type: 'forward', name: FORWARD_DEFAULTS.name, required: true, backlog: 0, ...forward };
}

/** An `[[output]]` table of type forward; `at` begins each message. */
export function readForwardTable(
  table: Table,
  common: { name: string; required: boolean; backlog: number },
  at: string,
): ForwardOutputConfig {
  const list = addressList(table.addresses, `${at}addresses`);
  if (list.length === 0)
    throw configError(
      `${at}addresses must name at least one upstream, like addresses = ["tcp/central:4043"]`,
    );
  const keys = {
    ...{ addresses: `${at}addresses`, window: `${at}window` },
    ...{ spoolMaxBytes: `${at}spool_max_bytes`, token: `${at}token` },
  };
  const values = { window: table.window, spoolMaxBytes: table.spool_max_bytes, token: table.token };
  return { type: 'forward', ...common, ...forwardSettings(list, values, keys) };
}

function forwardSettings(
  list: readonly string[],
  values: { window: unknown; spoolMaxBytes: unknown; token: unknown },
  keys: KeyNames,
): ForwardConfig {
  const addresses = list.map((text) => {
    try {
      return parseAddress(text);
    } catch (err) {
      if (!(err instanceof LogwireError)) throw err;
      throw configError(`${keys.addresses}: ${err.message}`, err);
    }
  });
  for (const address of addresses)
    if (address.scheme === 'udp' || address.scheme === 'ndjson' || address.scheme === 'http')
      throw configError(
        `${keys.addresses}: ${address.scheme} cannot carry acknowledged batches; use tcp, tls, unix or ws`,
      );
  const { token } = values;
  if (token !== undefined && (typeof token !== 'string' || token === ''))
    throw configError(`${keys.token} must be a non-empty string (got ${typeof token})`);
  return {
    addresses,
    window: size(values.window, keys.window) ?? FORWARD_DEFAULTS.window,
    spoolMaxBytes: size(values.spoolMaxBytes, keys.spoolMaxBytes) ?? FORWARD_DEFAULTS.spoolMaxBytes,
    ...(token === undefined ? {} : { token }),
  };
}

function addressList(value: unknown, key: string): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string'))
    throw configError(
      `${key} must be an address or a list of addresses, like ["tcp/central:4043"] (got ${describe(value)})`,
    );
  return list;
}

function size(value: unknown, key: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw configError(`${key} must be a whole number of bytes, at least 1 (got ${describe(value)})`);
  return value;
}
