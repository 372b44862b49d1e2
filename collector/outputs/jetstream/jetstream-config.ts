/**
 * The `[jetstream]` and `[from_jetstream]` tables and their flags (`--jetstream URL`,
 * `--from-jetstream URL`, `--consumer NAME`), checked once into frozen settings. Durations
 * in ms, sizes in bytes (INTERFACES.md).
 */

import { checkKeys, configError, describe, isTable, type Table } from '../../config/config-values.js';

/** Where a collector publishes its batches (docs/scale-out.md). */
export interface JetStreamSettings {
  /** The cluster's servers, `nats://host:port`; the client fails over between them. */
  readonly servers: readonly string[];
  readonly stream: string;
  /** Batches go to `<subjectPrefix>.<service>`; the stream takes `<subjectPrefix>.>`. */
  readonly subjectPrefix: string;
  readonly replicas: number;
  /** ms during which the stream drops a message whose id it has stored already. */
  readonly duplicateWindow: number;
  /** ms a message is kept (0: no limit). */
  readonly maxAge: number;
  /** bytes the stream holds at most, oldest dropped first (0: no limit). */
  readonly maxBytes: number;
}

/** Where a writing collector reads batches from. */
export interface FromJetStreamSettings {
  readonly servers: readonly string[];
  readonly stream: string;
  /** The durable pull consumer's name. */
  readonly consumer: string;
}

export const JETSTREAM_DEFAULTS = Object.freeze({
  stream: 'LOGWIRE',
  subjectPrefix: 'logwire',
  replicas: 3,
  // NATS's own default; covers a failover resend (ackTimeout 30 s + backoff up to 60 s): docs/scale-out.md.
  duplicateWindow: 120_000,
  maxAge: 0,
  maxBytes: 0,
  consumer: 'logwire-files',
});

const PUBLISH_KEYS = [
  'servers',
  'stream',
  'subject_prefix',
  'replicas',
  'duplicate_window',
  'max_age',
  'max_bytes',
];
const READ_KEYS = ['servers', 'stream', 'consumer'];

/** NATS names: no spaces, dots, wildcards or path separators. */
const NAME = /^[A-Za-z0-9_-]{1,255}$/;
/** A subject prefix: dot-separated tokens without wildcards. */
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export interface JetStreamFlags {
  readonly jetstream?: readonly string[];
  readonly fromJetstream?: readonly string[];
  readonly consumer?: string;
}

/** The publishing side, when `--jetstream` or `[jetstream] servers` names a server. */
export function readJetStream(
  table: Table,
  flags: JetStreamFlags,
  where: string,
): JetStreamSettings | undefined {
  const section = subTable(table, 'jetstream', where);
  if (section !== undefined) checkKeys(section, PUBLISH_KEYS, `${where}[jetstream] `);
  const servers = serverList(flags.jetstream, section?.servers, '--jetstream', `${where}[jetstream] servers`);
  if (servers === undefined) return undefined;
  const s = section ?? {};
  return {
    servers,
    stream: name(s.stream, `${where}[jetstream] stream`, NAME) ?? JETSTREAM_DEFAULTS.stream,
    subjectPrefix:
      name(s.subject_prefix, `${where}[jetstream] subject_prefix`, PREFIX) ??
      JETSTREAM_DEFAULTS.subjectPrefix,
    replicas: whole(s.replicas, `${where}[jetstream] replicas`, 1, 5) ?? JETSTREAM_DEFAULTS.replicas,
    duplicateWindow:
      whole(s.duplicate_window, `${where}[jetstream] duplicate_window`, 1) ??
      JETSTREAM_DEFAULTS.duplicateWindow,
    maxAge: whole(s.max_age, `${where}[jetstream] max_age`, 0) ?? JETSTREAM_DEFAULTS.maxAge,
    maxBytes: whole(s.max_bytes, `${where}[jetstream] max_bytes`, 0) ?? JETSTREAM_DEFAULTS.maxBytes,
  };
}

/** The reading side, when `--from-jetstream` or `[from_jetstream] servers` names a server. */
export function readFromJetStream(
  table: Table,
  flags: JetStreamFlags,
  where: string,
): FromJetStreamSettings | undefined {
  const section = subTable(table, 'from_jetstream', where);
  if (section !== undefined) checkKeys(section, READ_KEYS, `${where}[from_jetstream] `);
  const servers = serverList(
    flags.fromJetstream,
    section?.servers,
    '--from-jetstream',
    `${where}[from_jetstream] servers`,
  );
  if (servers === undefined) {
    if (flags.consumer !== undefined) throw configError('--consumer needs --from-jetstream URL');
    return undefined;
  }
  const s = section ?? {};
  const consumer = flags.consumer ?? name(s.consumer, `${where}[from_jetstream] consumer`, NAME);
  if (consumer !== undefined && !NAME.test(consumer))
    throw configError(`--consumer must be a name of letters, digits, - and _ (got ${describe(consumer)})`);
  return {
    servers,
    stream: name(s.stream, `${where}[from_jetstream] stream`, NAME) ?? JETSTREAM_DEFAULTS.stream,
    consumer: consumer ?? JETSTREAM_DEFAULTS.consumer,
  };
}

function subTable(table: Table, key: string, where: string): Table | undefined {
  const value = table[key];
  if (value === undefined) return undefined;
  if (!isTable(value))
    throw configError(`${where}${key} must be a table, like [${key}] (got ${describe(value)})`);
  return value;
}

function serverList(
  flag: readonly string[] | undefined,
  value: unknown,
  flagName: string,
  key: string,
): readonly string[] | undefined {
  if (flag !== undefined && flag.length > 0) {
    for (const url of flag) serverUrl(url, flagName);
    return flag;
  }
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string'))
    throw configError(
      `${key} must be a list of URLs, like servers = ["nats://127.0.0.1:4222"] (got ${describe(value)})`,
    );
  for (const url of value as string[]) serverUrl(url, key);
  return value as string[];
}

function serverUrl(url: string, key: string): void {
  if (!/^(nats|tls):\/\/[^\s/]+$/.test(url) && !/^[^\s/:]+:\d+$/.test(url))
    throw configError(`${key} must be a NATS server URL, like nats://127.0.0.1:4222 (got ${describe(url)})`);
}

function name(value: unknown, key: string, shape: RegExp): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !shape.test(value))
    throw configError(`${key} must be a name of letters, digits, - and _ (got ${describe(value)})`);
  return value;
}

function whole(value: unknown, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    throw configError(`${key} must be a whole number from ${min} to ${max} (got ${describe(value)})`);
  return value;
}
