/**
 * The collector's configuration, checked once at the edge (STYLE.md): the TOML file, the CLI
 * flags over it, COLLECTOR_DEFAULTS under it, into a deeply frozen CollectorConfig. RELOAD
 * (PROTOCOL.md §5) calls loadConfig again with the same inputs; a bad file throws and the
 * running collector keeps its old configuration. Keys are listed in docs/collector.md.
 */

import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { LogwireError } from '../shared/errors.js';
import { type Address, formatAddress, parseAddress } from '../shared/net/address.js';
import { COLLECTOR_DEFAULTS, type CollectorConfig, type ListenerConfig } from './config-types.js';

export interface ConfigFlags {
  /** Every `--listen`: when any is given, they replace the config's and the default listeners. */
  readonly listen?: readonly string[];
  readonly output?: string;
  readonly state?: string;
  /** `--trace` can only turn tracing on. */
  readonly trace?: boolean;
}

export interface ConfigInput {
  /** The TOML file (`--config`); without it, flags and defaults only. */
  readonly file?: string;
  readonly flags: ConfigFlags;
}

/** Mode of a Unix socket listener when `unix_mode` is not given: owner and group may connect. */
export const DEFAULT_UNIX_MODE = 0o660;

type Table = Readonly<Record<string, unknown>>;

/** Integer keys: the minimum and what the number counts, for the error message. */
const INTEGER_KEYS = {
  max_line: { min: 1, unit: 'bytes' },
  max_body: { min: 1, unit: 'bytes' },
  pause_above: { min: 1, unit: 'bytes' },
  ack_delay: { min: 0, unit: 'milliseconds' },
  source_ttl: { min: 1, unit: 'milliseconds' },
  idle_timeout: { min: 0, unit: 'milliseconds (0 = never)' },
  handshake_timeout: { min: 1, unit: 'milliseconds' },
  file_idle_close: { min: 0, unit: 'milliseconds (0 = never)' },
  max_sources: { min: 1, unit: 'sources' },
  max_connections: { min: 1, unit: 'connections' },
  max_open_files: { min: 1, unit: 'files' },
} as const;
type IntegerKey = keyof typeof INTEGER_KEYS;

const CHOICE_KEYS = {
  format: ['json', 'text'],
  durability: ['write', 'fsync'],
  validate: ['shape', 'full'],
} as const;

const TOP_KEYS: readonly string[] = [
  'listen',
  'output',
  'state',
  'path',
  'file_mode',
  'dir_mode',
  'secret_code',
  'token',
  'trace',
  ...Object.keys(CHOICE_KEYS),
  ...Object.keys(INTEGER_KEYS),
];
const LISTEN_KEYS: readonly string[] = [
  'address',
  'service',
  'tls_cert',
  'tls_key',
  'tls_ca',
  'unix_mode',
  'unix_group',
];

// PROTOCOL.md §4 names; a leading "_" is kept for the collector's own files (_rejected.log).
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Reads the configuration. Every error is a LogwireError LW_ERR_CONFIG whose message names the
 * key or flag and the expected shape. Relative paths are resolved against `cwd`.
 */
export async function loadConfig(input: ConfigInput, cwd: string = process.cwd()): Promise<CollectorConfig> {
  const { file, flags } = input;
  const where = file === undefined ? '' : `${file}: `;
  const table = file === undefined ? Object.create(null) : await readToml(resolve(cwd, file), file);
  checkKeys(table, TOP_KEYS, where);

  const output = flags.output ?? pathValue(table, 'output', where) ?? COLLECTOR_DEFAULTS.output;
  if (flags.output === '') throw configError('--output must name a directory, like --output ./logs');
  if (flags.state === '') throw configError('--state must name a directory, like --state ./logs/.state');
  const outputDir = resolve(cwd, output);
  const state = flags.state ?? pathValue(table, 'state', where);

  const config: { -readonly [K in keyof CollectorConfig]: CollectorConfig[K] } = {
    listeners: await readListeners(table, flags.listen, where, cwd),
    output: outputDir,
    state: state === undefined ? join(outputDir, '.state') : resolve(cwd, state),
    path: pathTemplate(table, where),
    format: choice(table, 'format', where) ?? COLLECTOR_DEFAULTS.format,
    fileMode: fileMode(table.file_mode, 'file_mode', where, 0o200) ?? COLLECTOR_DEFAULTS.fileMode,
    dirMode: fileMode(table.dir_mode, 'dir_mode', where, 0o700) ?? COLLECTOR_DEFAULTS.dirMode,
    durability: choice(table, 'durability', where) ?? COLLECTOR_DEFAULTS.durability,
    validate: choice(table, 'validate', where) ?? COLLECTOR_DEFAULTS.validate,
    maxLine: integer(table, 'max_line', where) ?? COLLECTOR_DEFAULTS.maxLine,
    maxBody: integer(table, 'max_body', where) ?? COLLECTOR_DEFAULTS.maxBody,
    ackDelay: integer(table, 'ack_delay', where) ?? COLLECTOR_DEFAULTS.ackDelay,
    maxSources: integer(table, 'max_sources', where) ?? COLLECTOR_DEFAULTS.maxSources,
    sourceTtl: integer(table, 'source_ttl', where) ?? COLLECTOR_DEFAULTS.sourceTtl,
    maxConnections: integer(table, 'max_connections', where) ?? COLLECTOR_DEFAULTS.maxConnections,
    idleTimeout: integer(table, 'idle_timeout', where) ?? COLLECTOR_DEFAULTS.idleTimeout,
    handshakeTimeout: integer(table, 'handshake_timeout', where) ?? COLLECTOR_DEFAULTS.handshakeTimeout,
    maxOpenFiles: integer(table, 'max_open_files', where) ?? COLLECTOR_DEFAULTS.maxOpenFiles,
    fileIdleClose: integer(table, 'file_idle_close', where) ?? COLLECTOR_DEFAULTS.fileIdleClose,
    pauseAbove: integer(table, 'pause_above', where) ?? COLLECTOR_DEFAULTS.pauseAbove,
    trace: flags.trace === true || (bool(table, 'trace', where) ?? false),
  };
  const secretCode = secret(table, 'secret_code', where);
  if (secretCode !== undefined) config.secretCode = secretCode;
  const token = secret(table, 'token', where);
  if (token !== undefined) config.token = token;
  return deepFreeze(config);
}

async function readToml(path: string, shown: string): Promise<Table> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw configError(`config file ${shown} cannot be read (${code}); check --config`, err);
  }
  try {
    return parse(text);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const reason = err.message.split('\n', 1)[0] ?? 'invalid TOML';
    throw configError(`${shown}: line ${err.line}, column ${err.column}: ${reason}`, err);
  }
}

// ---- listeners -------------------------------------------------------------------------------

async function readListeners(
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
    const mode = fileMode(table.unix_mode, 'unix_mode', `${shown}: `, 0o600) ?? DEFAULT_UNIX_MODE;
    const group = unixGroup(table.unix_group, `${shown}: unix_group`);
    out.unix = Object.freeze(group === undefined ? { mode } : { mode, group });
  }
  return out;
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

// ---- scalar values -------------------------------------------------------------------------

function integer(table: Table, key: IntegerKey, where: string): number | undefined {
  const value = table[key];
  if (value === undefined) return undefined;
  const { min, unit } = INTEGER_KEYS[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    const example = (COLLECTOR_DEFAULTS as Record<string, unknown>)[camelCase(key)];
    throw configError(
      `${where}${key} must be a whole number of ${unit}, at least ${min}, ` +
        `like ${key} = ${String(example)} (got ${describe(value)})`,
    );
  }
  return value;
}

function choice<K extends keyof typeof CHOICE_KEYS>(
  table: Table,
  key: K,
  where: string,
): (typeof CHOICE_KEYS)[K][number] | undefined {
  const value = table[key];
  if (value === undefined) return undefined;
  const allowed: readonly string[] = CHOICE_KEYS[key];
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw configError(
      `${where}${key} must be one of ${allowed.map((v) => `"${v}"`).join(', ')} (got ${describe(value)})`,
    );
  }
  return value as (typeof CHOICE_KEYS)[K][number];
}

function bool(table: Table, key: string, where: string): boolean | undefined {
  const value = table[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    throw configError(`${where}${key} must be true or false (got ${describe(value)})`);
  }
  return value;
}

function secret(table: Table, key: string, where: string): string | undefined {
  const value = table[key];
  if (value === undefined) return undefined;
  // The value itself is never echoed: PROTOCOL.md §5 keeps secrets out of every message.
  if (typeof value !== 'string' || value === '') {
    throw configError(`${where}${key} must be a non-empty string (got ${typeof value})`);
  }
  return value;
}

function pathValue(table: Table, key: string, where: string): string | undefined {
  const value = table[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw configError(
      `${where}${key} must be a directory path, like ${key} = "./logs" (got ${describe(value)})`,
    );
  }
  return value;
}

/** The template stays under the output directory; the outputs also confine it at run time. */
function pathTemplate(table: Table, where: string): string {
  const value = table.path;
  if (value === undefined) return COLLECTOR_DEFAULTS.path;
  const shape = 'path must be a relative file name template, like path = "{service}.log"';
  if (typeof value !== 'string' || value.trim() === '')
    throw configError(`${where}${shape} (got ${describe(value)})`);
  if (isAbsolute(value) || value.split(/[\\/]/).includes('..') || value.endsWith('/')) {
    throw configError(`${where}${shape}, inside the output directory (got ${describe(value)})`);
  }
  return value;
}

/**
 * A permission mode: an octal string ("0640", "640", "0o640") or a number (TOML's 0o640).
 * `needed` are the owner bits without which the collector could not use what it creates.
 */
function fileMode(value: unknown, key: string, where: string, needed: number): number | undefined {
  if (value === undefined) return undefined;
  let mode: number | undefined;
  if (typeof value === 'string' && /^(0o|0)?[0-7]{1,3}$/i.test(value)) {
    mode = Number.parseInt(value.replace(/^0o/i, ''), 8);
  } else if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0o777) {
    mode = value;
  }
  if (mode === undefined) {
    throw configError(
      `${where}${key} must be an octal permission mode as a string or TOML octal, ` +
        `like ${key} = "0640" or ${key} = 0o640 (got ${describe(value)})`,
    );
  }
  if ((mode & needed) !== needed) {
    throw configError(
      `${where}${key} = ${octal(mode)} leaves out the owner's ${octal(needed)}, which the collector needs`,
    );
  }
  return mode;
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

// ---- keys ----------------------------------------------------------------------------------

function checkKeys(table: Table, known: readonly string[], where: string): void {
  for (const key of Object.keys(table)) {
    if (known.includes(key)) continue;
    const near = suggest(key, known);
    const hint =
      near === undefined
        ? `the keys are ${known.join(', ')}`
        : `did you mean "${near}"? (keys are snake_case)`;
    throw configError(`${where}unknown key "${key}"; ${hint}`);
  }
}

/** The known key a near miss meant: camelCase or kebab-case spelling, or a typo or two. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  const snake = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
  if (known.includes(snake)) return snake;
  let best: string | undefined;
  let bestDistance = Math.min(3, Math.ceil(snake.length / 3));
  for (const candidate of known) {
    const d = editDistance(snake, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

// ---- helpers -------------------------------------------------------------------------------

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object' && value !== null) return 'a table';
  return JSON.stringify(value) ?? String(value);
}

function configError(message: string, cause?: unknown): LogwireError {
  return new LogwireError('LW_ERR_CONFIG', message, cause === undefined ? undefined : { cause });
}

/** Freezes every object reached; the config holds no cycles. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
