import { LogwireError } from '../errors.js';
import type { Address } from '../protocol/address.js';
import type { FrameLimits } from '../protocol/limits.js';
import { type BackoffSpec, DEFAULT_BACKOFF, parseBackoff } from './backoff.js';
import { type Clock, MAX_TIMER_MS, systemClock } from './clock.js';
import { type ConnectOptions, connectLink } from './connect.js';
import type { HeartbeatOptions, HeartbeatSpans } from './heartbeat.js';
import { DEFAULT_MAX_QUEUE_BYTES } from './held-queue.js';
import type { Messenger } from './messenger.js';
import { parseRateLimit, type RateLimitOptions } from './rate-limit.js';

/**
 * The permanent client's options, checked once here into a frozen object that the client
 * trusts (STYLE.md "Options checked once, at the edge").
 */

/** Opens one link; `connectLink` unless a test injects another. */
export type ConnectFn = typeof connectLink;

/**
 * Runs once the link is up and before the client reports 'connected' and flushes what it holds
 * (the appender sends REGISTER and waits for READY here). Rejecting closes the link and backs
 * off. `signal` aborts when the client closes or the link goes while it runs.
 */
export type Handshake = (messenger: Messenger, signal: AbortSignal) => Promise<void>;

export interface PermanentClientOptions {
  /** Tried in order: each failed attempt moves to the next; a failed round waits one backoff step. */
  readonly addresses: readonly Address[];
  readonly connectTimeout?: number;
  readonly handshakeTimeout?: number;
  readonly tls?: ConnectOptions['tls'];
  readonly ws?: ConnectOptions['ws'];
  /** How long closing lets a stalled flush go on before the link is destroyed (ms). */
  readonly closeGrace?: number;
  /** Delays between rounds of attempts; default DEFAULT_BACKOFF. */
  readonly backoff?: BackoffSpec;
  /** Dead-peer detection with ALIVE/ABSOLUTELY (see heartbeat.ts, and `awaitingReplies`); off when absent. */
  readonly heartbeat?: HeartbeatOptions;
  /** At most `bytes` per `perMs` ms leave the client; held messages wait for tokens. */
  readonly rateLimit?: RateLimitOptions;
  /** Bound on held messages, in bytes; default DEFAULT_MAX_QUEUE_BYTES (1 MiB). */
  readonly maxQueueBytes?: number;
  readonly limits?: Partial<FrameLimits>;
  readonly clock?: Clock;
  readonly connect?: ConnectFn;
  readonly handshake?: Handshake;
}

/** The checked options, defaults applied. */
export interface PermanentClientConfig {
  readonly addresses: readonly Address[];
  readonly connectOptions: ConnectOptions;
  readonly backoff: BackoffSpec;
  readonly heartbeat: HeartbeatOptions | undefined;
  readonly rateLimit: RateLimitOptions | undefined;
  readonly maxQueueBytes: number;
  readonly limits: Partial<FrameLimits>;
  readonly clock: Clock;
  readonly connect: ConnectFn;
  readonly handshake: Handshake | undefined;
}

/** Throws LogwireError LW_ERR_BAD_OPTION naming the option and the expected shape. */
export function parsePermanentClientOptions(input: PermanentClientOptions): PermanentClientConfig {
  if (typeof input !== 'object' || input === null) throw badOption('options', 'must be an object');
  const { addresses } = input;
  if (!Array.isArray(addresses) || addresses.length === 0) {
    throw badOption('addresses', 'must be a non-empty list of addresses (parseAddressList gives one)');
  }
  addresses.forEach((address: unknown, i) => {
    if (typeof address !== 'object' || address === null || !('scheme' in address)) {
      throw badOption(`addresses[${i}]`, 'must be an Address (from parseAddress)');
    }
  });
  const clock = input.clock ?? systemClock;
  // Connect deadlines and close grace run on the client's clock too, so tests drive them all.
  const connectOptions: ConnectOptions = Object.freeze({
    connectTimeout: optionalDuration(input.connectTimeout, 'connectTimeout'),
    handshakeTimeout: optionalDuration(input.handshakeTimeout, 'handshakeTimeout'),
    closeGrace: optionalDuration(input.closeGrace, 'closeGrace'),
    tls: input.tls,
    ws: input.ws,
    clock,
  });
  const backoff = parseBackoff(input.backoff ?? DEFAULT_BACKOFF, 'backoff');
  const heartbeat = input.heartbeat === undefined ? undefined : parseHeartbeat(input.heartbeat);
  const rateLimit = input.rateLimit === undefined ? undefined : parseRateLimit(input.rateLimit, 'rateLimit');
  const maxQueueBytes = input.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
  if (!Number.isSafeInteger(maxQueueBytes) || maxQueueBytes < 1) {
    throw badOption(
      'maxQueueBytes',
      `must be a whole number of bytes, at least 1; got ${String(maxQueueBytes)}`,
    );
  }
  for (const name of ['connect', 'handshake'] as const) {
    if (input[name] !== undefined && typeof input[name] !== 'function') {
      throw badOption(name, 'must be a function');
    }
  }
  return Object.freeze({
    addresses: Object.freeze([...addresses]),
    connectOptions,
    backoff,
    heartbeat,
    rateLimit,
    maxQueueBytes,
    limits: Object.freeze({ ...input.limits }),
    clock,
    connect: input.connect ?? connectLink,
    handshake: input.handshake,
  });
}

function parseHeartbeat(input: unknown): HeartbeatOptions {
  const spans = parseSpans(input, 'heartbeat', ['idle', 'timeout', 'awaiting']);
  const awaiting = (input as Record<string, unknown>).awaiting;
  return Object.freeze({
    ...spans,
    awaiting:
      awaiting === undefined ? undefined : parseSpans(awaiting, 'heartbeat.awaiting', ['idle', 'timeout']),
  });
}

function parseSpans(input: unknown, path: string, keys: readonly string[]): HeartbeatSpans {
  if (typeof input !== 'object' || input === null) {
    throw badOption(path, 'must be { idle, timeout } in milliseconds');
  }
  const fields = input as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!keys.includes(key)) {
      throw badOption(`${path}.${key}`, `is not an option; the keys are ${keys.join(', ')}`);
    }
  }
  return Object.freeze({
    idle: duration(fields.idle, `${path}.idle`),
    timeout: duration(fields.timeout, `${path}.timeout`),
  });
}

function optionalDuration(value: unknown, path: string): number | undefined {
  return value === undefined ? undefined : duration(value, path);
}

function duration(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw badOption(path, `must be a number of milliseconds above 0, got ${String(value)}`);
  }
  return value;
}

function badOption(path: string, problem: string): LogwireError {
  return new LogwireError('LW_ERR_BAD_OPTION', `${path} ${problem}`);
}

/** Names of the client's own timers in `timers`; users add theirs under other names. */
export const CLIENT_TIMERS = Object.freeze({
  reconnect: 'reconnect',
  heartbeat: 'heartbeat',
  rateLimit: 'rate-limit',
});
