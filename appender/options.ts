import { hostname } from 'node:os';
import { basename, extname } from 'node:path';
import { LogwireError } from '../shared/errors.js';
import { DEFAULT_BACKOFF, type ExponentialBackoff, parseBackoff } from '../shared/net/backoff.js';
import { parseRateLimit, type RateLimitOptions } from '../shared/net/rate-limit.js';
import { type Address, parseAddressList } from '../shared/protocol/address.js';
import type { BatchLimits } from '../shared/sender/batcher.js';
import type { FallbackTarget } from '../shared/sender/fallback.js';
import { OVERFLOW_POLICIES, type OverflowPolicy } from '../shared/sender/record-queue.js';
import { bad, duration, type Fields, integer, object, show, size, text } from './option-checks.js';

/**
 * The appender's options (issue #4, INTERFACES.md "The appender's options"), checked once, at the
 * edge, into a frozen object that inner code trusts (STYLE.md). Options cross pino's worker
 * boundary by structured clone, so every one has a plain-data form: durations are milliseconds,
 * sizes bytes, TLS material PEM text. docs/appender.md documents each with its default.
 */

export const DEFAULT_ADDRESS = 'tcp/127.0.0.1:4043';
/**
 * 1 MiB: one collector tick (collector/writer.ts); per-batch work (numbering, framing, the ACK)
 * is then a quarter of what 256 KiB cost (docs/benchmarks.md). maxDelay keeps a trickle prompt.
 */
export const DEFAULT_BATCH: BatchLimits = Object.freeze({
  maxRecords: 8192,
  maxBytes: 1024 * 1024,
  maxDelay: 10,
});
/** A 1M-record burst needs this much in flight to cover a ~30 ms ack round trip (docs/benchmarks.md). */
export const DEFAULT_WINDOW = 16 * 1024 * 1024;
export const DEFAULT_QUEUE_MAX_BYTES = 32 * 1024 * 1024;
export const DEFAULT_OVERFLOW: OverflowPolicy = 'drop-oldest';
export const DEFAULT_SPOOL_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_CONNECT_TIMEOUT = 5000;
export const DEFAULT_ACK_TIMEOUT = 30_000;
export const DEFAULT_HEARTBEAT = 30_000;
export const DEFAULT_CLOSE_TIMEOUT = 8000;
/** pino waits this long for the transport's 'close' at exit, then gives up silently. */
export const PINO_EXIT_WAIT = 10_000;
/** closeTimeout's ceiling: pino's wait, less a second to stop the connection and the spool. */
export const MAX_CLOSE_TIMEOUT = PINO_EXIT_WAIT - 1000;
/** 8 KiB: several records per datagram, far from the 64 KiB limit, few IP fragments. */
export const DEFAULT_MAX_DATAGRAM = 8192;
/** The largest UDP payload over IPv4 (65535 − 8 − 20). */
export const MAX_DATAGRAM = 65_507;
export const MIN_DATAGRAM = 512;

export type Protocol = 'logwire' | 'ndjson';
/** How records travel: a §4 session, §7 datagrams, or plain NDJSON (§10). */
export type Delivery = 'session' | 'udp' | 'ndjson';

export interface TlsOptions {
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
}

export interface SpoolOptions {
  readonly dir: string;
  readonly maxBytes: number;
  readonly fsync: boolean;
}

export interface AppenderOptions {
  readonly addresses: readonly Address[];
  readonly protocol: Protocol;
  readonly delivery: Delivery;
  /** Undefined: taken from the first record's `name`, else the main script's name. */
  readonly service: string | undefined;
  /** A prefix for the source id (without a spool, a random part is always added). */
  readonly source: string | undefined;
  readonly host: string;
  readonly token: string | undefined;
  readonly tls: TlsOptions | undefined;
  readonly batch: BatchLimits;
  readonly window: number;
  readonly queue: { readonly maxBytes: number; readonly overflow: OverflowPolicy };
  readonly spool: SpoolOptions | undefined;
  readonly backoff: readonly number[] | ExponentialBackoff;
  readonly connectTimeout: number;
  /** 0: never time out waiting for acks. */
  readonly ackTimeout: number;
  /** ms of silence before an ALIVE; 0: no heartbeat. */
  readonly heartbeat: number;
  readonly closeTimeout: number;
  readonly rateLimit: RateLimitOptions | undefined;
  readonly udp: { readonly maxDatagram: number };
  readonly fallback: FallbackTarget | undefined;
}

const KEYS = [
  'address',
  'protocol',
  'service',
  'source',
  'host',
  'token',
  'tls',
  'batch',
  'window',
  'queue',
  'spool',
  'backoff',
  'connectTimeout',
  'ackTimeout',
  'heartbeat',
  'closeTimeout',
  'rateLimit',
  'udp',
  'fallback',
] as const;

/** Spellings people reach for, and the option's real name. */
const RENAMED: Readonly<Record<string, string>> = {
  addresses: 'address',
  target: 'address',
  name: 'service',
  sourceId: 'source',
  secret: 'token',
  reconnect: 'backoff',
  timeout: 'connectTimeout',
  maxDatagram: 'udp.maxDatagram',
  spoolDir: 'spool',
};

const NAME_CHAR = /[^A-Za-z0-9._-]/g;

/**
 * Maps any text to a PROTOCOL.md §4 name, `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`: other characters
 * become `_`, leading characters that cannot start a name are dropped, and it is cut at 64.
 * Returns `fallback` when nothing is left.
 */
export function toName(value: string, fallback = 'app'): string {
  const name = value
    .replace(NAME_CHAR, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64);
  return name === '' ? fallback : name;
}

/** The main script's base name without extension, for a default service name. */
export function scriptName(argv: readonly string[] = process.argv): string {
  const script = argv[1];
  return toName(script === undefined ? 'node' : basename(script, extname(script)), 'node');
}

/** Reads and checks the appender's options. Throws LW_ERR_BAD_OPTION naming the path. */
export function parseAppenderOptions(input: unknown): AppenderOptions {
  const fields = object(input ?? {}, 'options', KEYS, RENAMED);
  const addressInput = fields.address ?? DEFAULT_ADDRESS;
  if (typeof addressInput !== 'string' && !Array.isArray(addressInput)) {
    throw bad('address', `must be an address or a list of addresses; got ${show(addressInput)}`);
  }
  let addresses: Address[];
  try {
    addresses = parseAddressList(addressInput as string | string[]);
  } catch (error) {
    throw bad('address', `is invalid: ${(error as Error).message}`);
  }
  const { protocol, delivery } = parseDelivery(fields.protocol, addresses);
  const queue = parseQueue(fields.queue);
  const udp = parseUdp(fields.udp);
  const spool = parseSpool(fields.spool);
  // A batch must fit the queue and the spool: the default size shrinks to fit a small one.
  const batch = parseBatch(fields.batch, Math.min(queue.maxBytes, spool?.maxBytes ?? queue.maxBytes));
  if (queue.maxBytes < batch.maxBytes) {
    throw bad('queue.maxBytes', `(${queue.maxBytes}) must be at least batch.maxBytes (${batch.maxBytes})`);
  }
  if (spool !== undefined && spool.maxBytes < batch.maxBytes) {
    throw bad('spool.maxBytes', `(${spool.maxBytes}) must be at least batch.maxBytes (${batch.maxBytes})`);
  }
  const closeTimeout = duration(
    fields.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
    'closeTimeout',
    0,
    MAX_CLOSE_TIMEOUT,
  );
  return Object.freeze({
    addresses: Object.freeze(addresses),
    protocol,
    delivery,
    service: fields.service === undefined ? undefined : toName(text(fields.service, 'service')),
    source: fields.source === undefined ? undefined : toName(text(fields.source, 'source')),
    host: fields.host === undefined ? toName(hostname(), 'localhost') : toName(text(fields.host, 'host')),
    token: fields.token === undefined ? undefined : text(fields.token, 'token'),
    tls: parseTls(fields.tls),
    batch,
    window: size(fields.window ?? DEFAULT_WINDOW, 'window'),
    queue,
    spool,
    backoff: parseBackoffOption(fields.backoff),
    connectTimeout: duration(fields.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT, 'connectTimeout', 1),
    ackTimeout: duration(fields.ackTimeout ?? DEFAULT_ACK_TIMEOUT, 'ackTimeout'),
    heartbeat: duration(fields.heartbeat ?? DEFAULT_HEARTBEAT, 'heartbeat'),
    closeTimeout,
    rateLimit: fields.rateLimit === undefined ? undefined : wrap(() => parseRateLimit(fields.rateLimit)),
    udp,
    fallback: parseFallback(fields.fallback),
  });
}

/** Re-throws an option error from a shared parser with the appender's prefix. */
function wrap<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof LogwireError && error.code === 'LW_ERR_BAD_OPTION') {
      throw new LogwireError('LW_ERR_BAD_OPTION', `appender option ${error.message}`);
    }
    throw error;
  }
}

function parseDelivery(
  input: unknown,
  addresses: readonly Address[],
): { protocol: Protocol; delivery: Delivery } {
  if (input !== undefined && input !== 'logwire' && input !== 'ndjson') {
    throw bad('protocol', `must be "logwire" or "ndjson"; got ${show(input)}`);
  }
  const ndjsonScheme = addresses.some((a) => a.scheme === 'ndjson');
  const protocol: Protocol = input === 'ndjson' || ndjsonScheme ? 'ndjson' : 'logwire';
  for (const address of addresses) {
    if (address.activation !== undefined)
      throw bad('address', 'cannot name a systemd socket: that is for listeners');
  }
  if (protocol === 'ndjson') {
    if (input === 'logwire') throw bad('protocol', 'is "logwire" but the address has the ndjson scheme');
    const wrong = addresses.find((a) => !['ndjson', 'tcp', 'tls', 'unix'].includes(a.scheme));
    if (wrong !== undefined) {
      throw bad(
        'address',
        `${wrong.scheme} cannot carry plain NDJSON: use ndjson/, tcp/, tls/ or unix/ addresses`,
      );
    }
    return { protocol, delivery: 'ndjson' };
  }
  const udp = addresses.filter((a) => a.scheme === 'udp').length;
  if (udp > 0 && udp < addresses.length) {
    throw bad('address', 'mixes udp with stream addresses: a failover list is all udp or all streams');
  }
  return { protocol, delivery: udp > 0 ? 'udp' : 'session' };
}

/** The batch limits; without `maxBytes`, the default or `room` (what the queue and spool hold), whichever is less. */
function parseBatch(input: unknown, room: number): BatchLimits {
  if (input === undefined && DEFAULT_BATCH.maxBytes <= room) return DEFAULT_BATCH;
  const fields = input === undefined ? {} : object(input, 'batch', ['maxRecords', 'maxBytes', 'maxDelay']);
  return Object.freeze({
    maxRecords: integer(
      fields.maxRecords ?? DEFAULT_BATCH.maxRecords,
      'batch.maxRecords',
      'records',
      1,
      1_000_000,
    ),
    maxBytes: size(
      fields.maxBytes ?? Math.min(DEFAULT_BATCH.maxBytes, room),
      'batch.maxBytes',
      1,
      16 * 1024 * 1024,
    ),
    maxDelay: duration(fields.maxDelay ?? DEFAULT_BATCH.maxDelay, 'batch.maxDelay', 0, 60_000),
  });
}

function parseQueue(input: unknown): AppenderOptions['queue'] {
  const fields = input === undefined ? {} : object(input, 'queue', ['maxBytes', 'overflow']);
  const maxBytes = size(fields.maxBytes ?? DEFAULT_QUEUE_MAX_BYTES, 'queue.maxBytes');
  const overflow = fields.overflow ?? DEFAULT_OVERFLOW;
  if (!(OVERFLOW_POLICIES as readonly unknown[]).includes(overflow)) {
    throw bad(
      'queue.overflow',
      `must be ${OVERFLOW_POLICIES.map((p) => `"${p}"`).join(', ')}; got ${show(overflow)}`,
    );
  }
  return Object.freeze({ maxBytes, overflow: overflow as OverflowPolicy });
}

function parseSpool(input: unknown): SpoolOptions | undefined {
  if (input === undefined || input === null || input === false) return undefined;
  if (typeof input === 'string') {
    return Object.freeze({ dir: text(input, 'spool'), maxBytes: DEFAULT_SPOOL_MAX_BYTES, fsync: false });
  }
  const fields = object(input, 'spool', ['dir', 'maxBytes', 'fsync']);
  const fsync = fields.fsync ?? false;
  if (typeof fsync !== 'boolean') throw bad('spool.fsync', `must be true or false; got ${show(fsync)}`);
  return Object.freeze({
    dir: text(fields.dir, 'spool.dir'),
    maxBytes: size(fields.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES, 'spool.maxBytes'),
    fsync,
  });
}

function parseBackoffOption(input: unknown): readonly number[] | ExponentialBackoff {
  if (input === undefined) return DEFAULT_BACKOFF;
  if (typeof input === 'function')
    throw bad('backoff', 'must be plain data (a list or an object), not a function');
  return wrap(() => parseBackoff(input, 'backoff')) as readonly number[] | ExponentialBackoff;
}

function parseUdp(input: unknown): AppenderOptions['udp'] {
  const fields = input === undefined ? {} : object(input, 'udp', ['maxDatagram']);
  const maxDatagram = size(
    fields.maxDatagram ?? DEFAULT_MAX_DATAGRAM,
    'udp.maxDatagram',
    MIN_DATAGRAM,
    MAX_DATAGRAM,
  );
  return Object.freeze({ maxDatagram });
}

function pem(value: unknown, path: string): string | Buffer {
  if (typeof value === 'string' && value !== '') return value;
  // A Buffer crosses the worker boundary as a Uint8Array.
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw bad(path, `must be PEM text (a string) or its bytes; got ${show(value)}`);
}

function parseTls(input: unknown): TlsOptions | undefined {
  if (input === undefined) return undefined;
  const fields = object(input, 'tls', ['ca', 'cert', 'key', 'servername', 'rejectUnauthorized']);
  const rejectUnauthorized = fields.rejectUnauthorized ?? true;
  if (typeof rejectUnauthorized !== 'boolean') {
    throw bad('tls.rejectUnauthorized', `must be true or false; got ${show(rejectUnauthorized)}`);
  }
  const tls: { -readonly [K in keyof TlsOptions]: TlsOptions[K] } = { rejectUnauthorized };
  if (fields.ca !== undefined) {
    tls.ca = Array.isArray(fields.ca)
      ? Object.freeze(fields.ca.map((item, i) => pem(item, `tls.ca[${i}]`)))
      : pem(fields.ca, 'tls.ca');
  }
  if (fields.cert !== undefined) tls.cert = pem(fields.cert, 'tls.cert');
  if (fields.key !== undefined) tls.key = pem(fields.key, 'tls.key');
  if (fields.servername !== undefined) tls.servername = text(fields.servername, 'tls.servername');
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw bad('tls', 'needs both cert and key for a client certificate, or neither');
  }
  return Object.freeze(tls);
}

/**
 * Where records go when the options as a whole are bad (appender/index.ts): the `fallback`
 * option when that one is good, else stderr, so that nothing logged is lost unseen.
 */
export function fallbackDespiteBadOptions(input: unknown): FallbackTarget {
  try {
    const fields = typeof input === 'object' && input !== null ? (input as Fields) : {};
    return parseFallback(fields.fallback) ?? 'stderr';
  } catch {
    return 'stderr';
  }
}

function parseFallback(input: unknown): FallbackTarget | undefined {
  if (input === undefined || input === null || input === false) return undefined;
  if (input === 'stderr') return 'stderr';
  if (typeof input === 'string' && input !== '') return Object.freeze({ path: input });
  throw bad('fallback', `must be "stderr" or a file path; got ${show(input)}`);
}
