/**
 * The collector's configuration, checked once at the edge (STYLE.md): the TOML file, the CLI
 * flags over it, COLLECTOR_DEFAULTS under it, into a deeply frozen CollectorConfig. RELOAD
 * (PROTOCOL.md §5) calls loadConfig again with the same inputs; a bad file throws and the
 * running collector keeps its old configuration. Keys are listed in docs/collector.md.
 */

import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { ACCESS_KEYS, allowFlags, readAccess, requireAllow } from '../access/access-config.js';
import { readMetricsAddress } from '../metrics/metrics-address.js';
import { readFromJetStream, readJetStream } from '../outputs/jetstream/jetstream-config.js';
import { type Environment, type EnvKind, envVarName, readEnvironment } from './config-env.js';
import { FORWARD_KEYS, readForward } from './config-forward.js';
import { readListeners } from './config-listeners.js';
import {
  buildOutputs,
  checkJetStreamOutputs,
  configuredOutputs,
  readOutputs,
  readRoutes,
} from './config-outputs.js';
import { COLLECTOR_DEFAULTS, type CollectorConfig } from './config-types.js';
import { checkKeys, configError, deepFreeze, describe, fileMode, type Table } from './config-values.js';

export { suggest } from './config-values.js';

export interface ConfigFlags {
  /** Every `--listen`: when any is given, they replace the config's and the default listeners. */
  readonly listen?: readonly string[];
  readonly output?: string;
  readonly state?: string;
  /** `--trace` can only turn tracing on. */
  readonly trace?: boolean;
  /** Every `--allow`: replaces the file's top-level allow. */
  readonly allow?: readonly string[];
  /** `--metrics ADDRESS`: replaces the file's metrics. */
  readonly metrics?: string;
  /** Every `--forward`: when any is given, they replace the config's `forward` list. */
  readonly forward?: readonly string[];
  /** `--jetstream URL`…, `--from-jetstream URL`…, `--consumer NAME`: over the config's tables. */
  readonly jetstream?: readonly string[];
  readonly fromJetstream?: readonly string[];
  readonly consumer?: string;
}

export interface ConfigInput {
  /** The TOML file (`--config`); without it, flags and defaults only. */
  readonly file?: string;
  readonly flags: ConfigFlags;
  /** `LOGWIRE_<KEY>` variables (config-env.ts), over the file and under the flags. */
  readonly env?: Environment;
}

/** Integer keys: the minimum and what the number counts, for the error message. */
const INTEGER_KEYS = {
  max_line: { min: 1, unit: 'bytes' },
  max_body: { min: 1, unit: 'bytes' },
  pause_above: { min: 1, unit: 'bytes' },
  ack_delay: { min: 0, unit: 'milliseconds' },
  source_ttl: { min: 1, unit: 'milliseconds' },
  idle_timeout: { min: 0, unit: 'milliseconds (0 = never)' },
  handshake_timeout: { min: 1, unit: 'milliseconds' },
  register_timeout: { min: 1, unit: 'milliseconds' },
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

/** Every top-level key of the file; each is also `LOGWIRE_<KEY>` in the environment. */
export const TOP_KEYS: readonly string[] = [
  'listen',
  'output',
  'output_dir',
  'route',
  'state',
  'path',
  'file_mode',
  'dir_mode',
  'secret_code',
  'trace',
  'metrics',
  ...ACCESS_KEYS,
  'jetstream',
  'from_jetstream',
  ...Object.keys(CHOICE_KEYS),
  ...Object.keys(INTEGER_KEYS),
  ...FORWARD_KEYS,
];

/**
 * Reads the configuration. Every error is a LogwireError LW_ERR_CONFIG whose message names the
 * key or flag and the expected shape. Relative paths are resolved against `cwd`.
 */
export async function loadConfig(input: ConfigInput, cwd: string = process.cwd()): Promise<CollectorConfig> {
  const { file, flags } = input;
  const where = file === undefined ? '' : `${file}: `;
  const fileTable: Table =
    file === undefined ? Object.create(null) : await readToml(resolve(cwd, file), file);
  checkKeys(fileTable, TOP_KEYS, where);
  const envTable = input.env === undefined ? {} : readEnvironment(input.env, TOP_KEYS, envKind);
  const table: Table = { ...fileTable, ...envTable };
  /** Messages name the variable when the environment set the key, else the file. */
  const at = (key: string): string => (key in envTable ? `${envVarName(key)}: ` : where);

  const { output, outputTables } = outputDirectory(fileTable, envTable, at);
  const chosen = flags.output ?? output ?? COLLECTOR_DEFAULTS.output;
  if (flags.output === '') throw configError('--output must name a directory, like --output ./logs');
  if (flags.state === '') throw configError('--state must name a directory, like --state ./logs/.state');
  const outputDir = resolve(cwd, chosen);
  const state = flags.state ?? pathValue(table, 'state', at('state'));

  const config: { -readonly [K in keyof CollectorConfig]: CollectorConfig[K] } = {
    listeners: await readListeners(table, flags.listen, at('listen'), cwd),
    output: outputDir,
    state: state === undefined ? join(outputDir, '.state') : resolve(cwd, state),
    path: pathTemplate(table, at('path')),
    format: choice(table, 'format', at('format')) ?? COLLECTOR_DEFAULTS.format,
    outputs: [],
    routes: [],
    fileMode: fileMode(table.file_mode, 'file_mode', at('file_mode'), 0o200) ?? COLLECTOR_DEFAULTS.fileMode,
    dirMode: fileMode(table.dir_mode, 'dir_mode', at('dir_mode'), 0o700) ?? COLLECTOR_DEFAULTS.dirMode,
    durability: choice(table, 'durability', at('durability')) ?? COLLECTOR_DEFAULTS.durability,
    validate: choice(table, 'validate', at('validate')) ?? COLLECTOR_DEFAULTS.validate,
    maxLine: integer(table, 'max_line', at('max_line')) ?? COLLECTOR_DEFAULTS.maxLine,
    maxBody: integer(table, 'max_body', at('max_body')) ?? COLLECTOR_DEFAULTS.maxBody,
    ackDelay: integer(table, 'ack_delay', at('ack_delay')) ?? COLLECTOR_DEFAULTS.ackDelay,
    maxSources: integer(table, 'max_sources', at('max_sources')) ?? COLLECTOR_DEFAULTS.maxSources,
    sourceTtl: integer(table, 'source_ttl', at('source_ttl')) ?? COLLECTOR_DEFAULTS.sourceTtl,
    maxConnections:
      integer(table, 'max_connections', at('max_connections')) ?? COLLECTOR_DEFAULTS.maxConnections,
    idleTimeout: integer(table, 'idle_timeout', at('idle_timeout')) ?? COLLECTOR_DEFAULTS.idleTimeout,
    handshakeTimeout:
      integer(table, 'handshake_timeout', at('handshake_timeout')) ?? COLLECTOR_DEFAULTS.handshakeTimeout,
    registerTimeout:
      integer(table, 'register_timeout', at('register_timeout')) ?? COLLECTOR_DEFAULTS.registerTimeout,
    maxOpenFiles: integer(table, 'max_open_files', at('max_open_files')) ?? COLLECTOR_DEFAULTS.maxOpenFiles,
    fileIdleClose:
      integer(table, 'file_idle_close', at('file_idle_close')) ?? COLLECTOR_DEFAULTS.fileIdleClose,
    pauseAbove: integer(table, 'pause_above', at('pause_above')) ?? COLLECTOR_DEFAULTS.pauseAbove,
    trace: flags.trace === true || (bool(table, 'trace', at('trace')) ?? false),
  };
  readWhereRecordsGo(config, { table, fileTable, outputTables, flags, where, at }, output !== undefined);
  const secretCode = secret(table, 'secret_code', at('secret_code'));
  if (secretCode !== undefined) config.secretCode = secretCode;
  Object.assign(config, readAccess(table, at('allow')));
  if (flags.allow !== undefined && flags.allow.length > 0) config.allow = allowFlags(flags.allow);
  const metrics = readMetricsAddress(
    flags.metrics ?? table.metrics,
    flags.metrics === undefined ? `${where}metrics` : '--metrics',
  );
  if (metrics !== undefined) config.metrics = metrics;
  for (const [i, listener] of config.listeners.entries()) {
    const fromFlags = flags.listen !== undefined && flags.listen.length > 0;
    const label = fromFlags ? `--listen ${flags.listen![i]}` : `${where}listen[${i}]`;
    requireAllow(listener.address, listener.access?.allow ?? config.allow, label);
  }
  return deepFreeze(config);
}

/**
 * [jetstream], [from_jetstream], the outputs (config-outputs.ts buildOutputs) and the routes
 * over them; `outputNamed`: the output directory was set in the file or the environment.
 */
function readWhereRecordsGo(
  config: { -readonly [K in keyof CollectorConfig]: CollectorConfig[K] },
  read: {
    table: Table;
    fileTable: Table;
    outputTables: unknown;
    flags: ConfigFlags;
    where: string;
    at: (key: string) => string;
  },
  outputNamed: boolean,
): void {
  const { table, flags, where } = read;
  const jetstream = readJetStream(table, flags, where);
  if (jetstream !== undefined) config.jetstream = jetstream;
  const fromJetstream = readFromJetStream(table, flags, where);
  if (fromJetstream !== undefined) config.fromJetstream = fromJetstream;
  config.outputs = buildOutputs(readOutputs(read.outputTables, config.format, where), {
    ...{ jetstream: jetstream !== undefined, explicitOutput: flags.output !== undefined || outputNamed },
    ...{ path: config.path, format: config.format },
    ...optional('forward', readForward(table, flags.forward, read.at('forward'))),
  });
  const outputs = configuredOutputs(config);
  config.routes = readRoutes(
    read.fileTable.route,
    outputs.map((out) => out.name),
    where,
  );
  checkJetStreamOutputs(outputs, config.routes, jetstream !== undefined, where);
}

/**
 * `output` is the directory (a string) or the [[output]] tables; output_dir names the directory
 * then. Tables come from the file only: the environment sets plain values.
 */
function outputDirectory(
  fileTable: Table,
  envTable: Table,
  at: (key: string) => string,
): { output: string | undefined; outputTables: unknown[] | undefined } {
  const table: Table = { ...fileTable, ...envTable };
  const outputTables = Array.isArray(fileTable.output) ? fileTable.output : undefined;
  if (outputTables !== undefined && 'output' in envTable)
    throw configError(
      `${envVarName('output')}: the file's [[output]] tables name the outputs; set ${envVarName('output_dir')} for their directory`,
    );
  if (outputTables === undefined && table.output_dir !== undefined)
    throw configError(
      `${at('output_dir')}output_dir goes with [[output]] tables; without them, write output = "./logs"`,
    );
  if (outputTables !== undefined && table.path !== undefined)
    throw configError(
      `${at('path')}path is the default output's; with [[output]] tables, give each its path`,
    );
  const output =
    outputTables === undefined
      ? pathValue(table, 'output', at('output'))
      : pathValue({ output: table.output_dir }, 'output', at('output_dir'));
  return { output, outputTables };
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

function envKind(key: string): EnvKind {
  if (key === 'route' || key === 'jetstream' || key === 'from_jetstream') return 'table';
  if (key in INTEGER_KEYS) return 'integer';
  if (key === 'trace') return 'boolean';
  if (key === 'listen' || key === 'allow' || key === 'forward') return 'list';
  if (key === 'max_connections_per_peer' || key === 'forward_window' || key === 'forward_spool_max_bytes')
    return 'integer';
  return 'string';
}

/** `{ key: value }`, or nothing when the value is undefined (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}
