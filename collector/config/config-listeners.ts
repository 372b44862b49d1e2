/**
 * The `listen` part of the collector's configuration: `--listen` flags, the `listen = [...]`
 * array or `[[listen]]` tables, or the defaults (INTERFACES.md), each checked into a
 * ListenerConfig with its TLS files read and its Unix socket path made absolute.
 */

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LogwireError } from '../../shared/errors.js';
import { DEFAULT_UNIX_MODE } from '../../shared/net/unix-socket.js';
import { type Address, formatAddress, parseAddress } from '../../shared/protocol/address.js';
import { normalizeOrigin } from '../intake/origin-policy.js';
import { COLLECTOR_DEFAULTS, type ListenerConfig } from './config-types.js';
import { checkKeys, configError, describe, fileMode, isTable, type Table } from './config-values.js';

const LISTEN_KEYS: readonly string[] = [
  'address',
  'service',
  'tls_cert',
  'tls_key',
  'tls_ca',
  'unix_mode',
  'unix_group',
  'allow_origins',
];

// PROTOCOL.md §4 names; a leading "_" is kept for the collector's own files (_rejected.log).
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The listeners: any `--listen` flag replaces the file's and the defaults (INTERFACES.md);
 * else the file's `listen`; else COLLECTOR_DEFAULTS.listen. `where` prefixes file messages.
 */
export async function readListeners(
  table: Table,
  flags: readonly string[] | undefined,
  where: string,
  cwd: string,
): Promise<ListenerConfig[]> {
  let list: ListenerConfig[];
  if (flags !== undefined && flags.length > 0) {
    // INTERFACES.md: any --listen replaces the config's listeners and the defaults.
    list = [];
    for (const text of flags)
      list.push(await listener({ address: text }, `--listen ${text}`, '--listen', cwd));
  } else if (table.listen !== undefined) {
    list = await listenersFromFile(table.listen, where, cwd);
  } else {
    list = [];
    for (const text of COLLECTOR_DEFAULTS.listen) {
      list.push(await listener({ address: text }, `default listener ${text}`, 'default listener', cwd));
    }
  }
  checkDuplicates(list, flags !== undefined && flags.length > 0 ? '--listen' : `${where}listen`);
  return list;
}

async function listenersFromFile(raw: unknown, where: string, cwd: string): Promise<ListenerConfig[]> {
  const shape =
    'listen must be an array of addresses (listen = ["tcp/127.0.0.1:4043"]) or [[listen]] tables with an address';
  if (isTable(raw)) throw configError(`${where}${shape}; write [[listen]] with double brackets`);
  if (!Array.isArray(raw)) throw configError(`${where}${shape} (got ${describe(raw)})`);
  if (raw.length === 0) {
    throw configError(`${where}listen is empty; give at least one address, or remove it for the defaults`);
  }
  const list: ListenerConfig[] = [];
  for (const [i, item] of raw.entries()) {
    const key = `${where}listen[${i}]`;
    if (typeof item === 'string') list.push(await listener({ address: item }, key, key, cwd));
    else if (isTable(item)) list.push(await listener(item, key, `${key}.address`, cwd));
    else throw configError(`${key} must be an address string or a table (got ${describe(item)})`);
  }
  return list;
}

/**
 * One listener. `label` names it in messages (`config.toml: listen[1]`, `--listen tls/…`) and
 * `addressLabel` names where its address was written.
 */
async function listener(
  table: Table,
  label: string,
  addressLabel: string,
  cwd: string,
): Promise<ListenerConfig> {
  checkKeys(table, LISTEN_KEYS, `${label}: `);
  const text = table.address;
  if (typeof text !== 'string') {
    throw configError(`${addressLabel} must be an address like tcp/127.0.0.1:4043 (got ${describe(text)})`);
  }
  let address: Address;
  try {
    address = parseAddress(text);
  } catch (err) {
    if (!(err instanceof LogwireError)) throw err;
    throw configError(`${addressLabel}: ${err.message}`, err);
  }
  const { scheme } = address;
  if (scheme === 'unix' && address.path !== undefined) {
    address = Object.freeze({ scheme, path: resolve(cwd, address.path) });
  }
  const shown = label.startsWith('--') || label.startsWith('default') ? label : `${label} (${text})`;
  const out: { -readonly [K in keyof ListenerConfig]: ListenerConfig[K] } = {
    address,
    service: COLLECTOR_DEFAULTS.ndjsonService,
  };

  if (table.service !== undefined) {
    if (scheme !== 'ndjson') throw configError(`${shown}: service applies only to ndjson listeners`);
    const service = table.service;
    if (typeof service !== 'string' || !SERVICE_NAME.test(service)) {
      throw configError(
        `${shown}: service must be a name of letters, digits, ".", "_" and "-" (not first), ` +
          `at most 64, like service = "nginx" (got ${describe(service)})`,
      );
    }
    out.service = service;
  }

  const secure = scheme === 'tls' || scheme === 'wss';
  for (const name of ['tls_cert', 'tls_key', 'tls_ca']) {
    if (table[name] !== undefined && !secure) {
      throw configError(`${shown}: ${name} applies only to tls and wss listeners`);
    }
  }
  if (secure) {
    if (table.tls_cert === undefined || table.tls_key === undefined) {
      throw configError(
        `${shown}: a ${scheme} listener needs tls_cert and tls_key (PEM file paths); write it as a ` +
          '[[listen]] table in the config file: address = "…", tls_cert = "cert.pem", tls_key = "key.pem"',
      );
    }
    const cert = await pemFile(table.tls_cert, `${shown}: tls_cert`, cwd);
    const keyPem = await pemFile(table.tls_key, `${shown}: tls_key`, cwd);
    const ca = table.tls_ca === undefined ? undefined : await pemFile(table.tls_ca, `${shown}: tls_ca`, cwd);
    out.tls = Object.freeze(ca === undefined ? { cert, key: keyPem } : { cert, key: keyPem, ca });
  }

  for (const name of ['unix_mode', 'unix_group']) {
    if (table[name] !== undefined && scheme !== 'unix') {
      throw configError(`${shown}: ${name} applies only to unix listeners`);
    }
  }
  if (scheme === 'unix') {
    // The listener's own default (owner only) unless unix_mode widens it.
    const mode = fileMode(table.unix_mode, 'unix_mode', `${shown}: `, 0o600) ?? DEFAULT_UNIX_MODE;
    const group = unixGroup(table.unix_group, `${shown}: unix_group`);
    out.unix = Object.freeze(group === undefined ? { mode } : { mode, group });
  }
  if (table.allow_origins !== undefined) {
    if (scheme !== 'ws' && scheme !== 'wss') {
      throw configError(`${shown}: allow_origins applies only to ws and wss listeners`);
    }
    out.allowOrigins = Object.freeze(origins(table.allow_origins, `${shown}: allow_origins`));
  }
  return out;
}

function origins(value: unknown, what: string): string[] {
  const shape = `${what} must be an array of origins, like allow_origins = ["https://app.example"]`;
  if (!Array.isArray(value)) throw configError(`${shape} (got ${describe(value)})`);
  return value.map((item: unknown) => {
    const origin = typeof item === 'string' ? normalizeOrigin(item) : undefined;
    if (origin === undefined) {
      throw configError(`${shape}: scheme://host[:port], no path (got ${describe(item)})`);
    }
    return origin;
  });
}

async function pemFile(value: unknown, what: string, cwd: string): Promise<string> {
  if (typeof value !== 'string' || value === '') {
    throw configError(`${what} must be the path of a PEM file (got ${describe(value)})`);
  }
  try {
    return await readFile(resolve(cwd, value), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw configError(`${what}: ${value} cannot be read (${code})`, err);
  }
}

function unixGroup(value: unknown, what: string): string | number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(value)) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw configError(
    `${what} must be a group name or a numeric gid, like unix_group = "adm" (got ${describe(value)})`,
  );
}

/** Two listeners on one address would fail to bind; port 0 asks for a fresh port each time. */
function checkDuplicates(list: readonly ListenerConfig[], where: string): void {
  const seen = new Set<string>();
  for (const { address } of list) {
    if (address.port === 0) continue;
    const text = formatAddress(address);
    if (seen.has(text)) throw configError(`${where}: ${text} is given twice; give each listener once`);
    seen.add(text);
  }
}
