/**
 * The collector's configuration once checked: frozen, defaults applied, units in ms and bytes
 * (INTERFACES.md). TOML keys are the snake_case of these names; docs/collector.md lists them.
 */

import type { Address } from '../../shared/protocol/address.js';
import type { FromJetStreamSettings, JetStreamSettings } from '../outputs/jetstream/jetstream-config.js';

export type Durability = 'write' | 'fsync';
export type OutputFormat = 'json' | 'text';
export type Validation = 'shape' | 'full';

export interface ListenerConfig {
  readonly address: Address;
  /** For `ndjson` listeners: the service their records are written under (default `ndjson`). */
  readonly service: string;
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca?: string };
  readonly unix?: { readonly mode: number; readonly group?: string | number };
  /** For `ws` and `wss` listeners: browser origins (`https://app.example`) whose pages may connect. */
  readonly allowOrigins?: readonly string[];
}

export interface CollectorConfig {
  readonly listeners: readonly ListenerConfig[];
  /** Output directory (default ./logs). */
  readonly output: string;
  /** State directory (default <output>/.state). */
  readonly state: string;
  /** Path template under `output` (default `{service}.log`). */
  readonly path: string;
  readonly format: OutputFormat;
  readonly fileMode: number;
  readonly dirMode: number;
  readonly durability: Durability;
  readonly validate: Validation;
  readonly maxLine: number;
  readonly maxBody: number;
  /** Every written batch is acknowledged within this delay (PROTOCOL.md §4, default 10). */
  readonly ackDelay: number;
  readonly maxSources: number;
  /** Marks idle longer than this are forgotten (default 30 days). */
  readonly sourceTtl: number;
  readonly maxConnections: number;
  /** A connection silent this long is closed (default 0 = never). */
  readonly idleTimeout: number;
  readonly handshakeTimeout: number;
  /** A stream connection that has not registered (or sent a control command) this long is closed. */
  readonly registerTimeout: number;
  /** Open output files kept at most, and the idle time after which one is closed. */
  readonly maxOpenFiles: number;
  readonly fileIdleClose: number;
  /** Bytes received but not yet written above which clients are PAUSEd; UNPAUSE below half. */
  readonly pauseAbove: number;
  /** Honoured only over tls and wss (PROTOCOL.md §5). */
  readonly secretCode?: string;
  /** Require this token in REGISTER when set. */
  readonly token?: string;
  readonly trace: boolean;
  /** Publish every batch to this JetStream stream instead of the file output (docs/scale-out.md). */
  readonly jetstream?: JetStreamSettings;
  /** Read batches from this JetStream stream (a durable consumer) and write them to the outputs. */
  readonly fromJetstream?: FromJetStreamSettings;
}

export const COLLECTOR_DEFAULTS = Object.freeze({
  output: './logs',
  path: '{service}.log',
  format: 'json' as OutputFormat,
  fileMode: 0o640,
  dirMode: 0o750,
  durability: 'write' as Durability,
  validate: 'shape' as Validation,
  maxLine: 64 * 1024,
  maxBody: 16 * 1024 * 1024,
  ackDelay: 10,
  maxSources: 10_000,
  sourceTtl: 30 * 24 * 3600 * 1000,
  maxConnections: 1024,
  idleTimeout: 0,
  handshakeTimeout: 10_000,
  registerTimeout: 10_000,
  maxOpenFiles: 256,
  fileIdleClose: 60_000,
  pauseAbove: 64 * 1024 * 1024,
  ndjsonService: 'ndjson',
  listen: ['tcp/127.0.0.1:4043', 'udp/127.0.0.1:4043'] as readonly string[],
});

/** What the daemon reports through its own log (stderr, text layout) and to the CLI. */
export interface CollectorLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  trace(msg: string, fields?: Record<string, unknown>): void;
}

/** A running collector, as the CLI and tests drive it. */
export interface Collector {
  /** Bound addresses in PROTOCOL.md §9 form, real ports included. */
  readonly addresses: readonly string[];
  /** Drains (stop reading, write and acknowledge what was read, close) and resolves when done. */
  stop(reason: string): Promise<void>;
  /** Resolves once the collector has fully stopped, whatever stopped it (STOP/QUIT too). */
  readonly done: Promise<void>;
  /** Reopens every output file (logrotate's LOG). */
  reopen(): Promise<void>;
  status(): Readonly<Record<string, string | number>>;
}
