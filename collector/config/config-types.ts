/**
 * The collector's configuration once checked: frozen, defaults applied, units in ms and bytes
 * (INTERFACES.md). TOML keys are the snake_case of these names; docs/collector.md lists them.
 */

import type { RateLimitOptions } from '../../shared/net/rate-limit.js';
import type { Address } from '../../shared/protocol/address.js';
import type { AccessSettings } from '../access/access-config.js';
import type { FromJetStreamSettings, JetStreamSettings } from '../outputs/jetstream/jetstream-config.js';

export type Durability = 'write' | 'fsync';
export type OutputFormat = 'json' | 'text';
export type Validation = 'shape' | 'full';

export interface ListenerConfig {
  readonly address: Address;
  /** For `ndjson` and `http` listeners: the service their records are written under (default `ndjson`, `http`). */
  readonly service: string;
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca?: string };
  readonly unix?: { readonly mode: number; readonly group?: string | number };
  /** For `ws` and `wss` listeners: browser origins (`https://app.example`) whose pages may connect. */
  readonly allowOrigins?: readonly string[];
  /** This listener's own access keys (docs/collector.md "Access control"); the top level's apply otherwise. */
  readonly access?: AccessSettings;
}

/** One `[[output]]` table of type `file` (docs/collector.md "Outputs and routing"). */
export interface FileOutputConfig {
  readonly type: 'file';
  readonly name: string;
  /** Path template under the output directory. */
  readonly path: string;
  readonly format: OutputFormat;
  /** A client's ACK waits for every required output; an optional one keeps its own backlog. */
  readonly required: boolean;
  /** An optional output's backlog limit in bytes; past it, its records are dropped and counted. */
  readonly backlog: number;
}

/** Where a forward output relays to, and its limits (docs/collector.md "Relay (forward)"). */
export interface ForwardConfig {
  /** Upstream collectors, in failover order. */
  readonly addresses: readonly Address[];
  /** Bytes in flight upstream per relayed source. */
  readonly window: number;
  /** Spool bytes above which the relay holds its writes (and so PAUSEs its clients). */
  readonly spoolMaxBytes: number;
  /** Token sent in each upstream REGISTER. */
  readonly token?: string;
}

/** One `[[output]]` table of type `forward`, or the output `forward` / `--forward` make. */
export interface ForwardOutputConfig extends ForwardConfig {
  readonly type: 'forward';
  readonly name: string;
  readonly required: boolean;
  readonly backlog: number;
}

/** One `[[output]]` table of type `jetstream`: publishes to the stream the `[jetstream]` table names. */
export interface JetStreamOutputConfig {
  readonly type: 'jetstream';
  readonly name: string;
  readonly required: boolean;
  readonly backlog: number;
}

export type OutputConfig = FileOutputConfig | ForwardOutputConfig | JetStreamOutputConfig;

/** One `[[route]]` table: which outputs a record of a service and level goes to. */
export interface RouteConfig {
  readonly service?: readonly string[];
  readonly level?: { readonly op: '>=' | '>' | '<=' | '<' | '=' | '!='; readonly value: number };
  readonly to: readonly string[];
  readonly continue: boolean;
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
  /**
   * Every output (config-outputs.ts buildOutputs): the `[[output]]` tables (with `forward`'s output
   * added), or the defaults `forward`/`jetstream` make; empty: one required file output named
   * `files` from path and format.
   */
  readonly outputs: readonly OutputConfig[];
  /** The `[[route]]` tables, in order; empty: every record to every output. */
  readonly routes: readonly RouteConfig[];
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
  /** Require one of these tokens (REGISTER, UDP EVENTS, ndjson's first line) when set. */
  readonly token?: readonly string[];
  /** Who may reach listeners open to other hosts (CIDRs or "any"); a listener's own allow wins. */
  readonly allow?: readonly string[];
  readonly maxConnectionsPerPeer?: number;
  readonly rateLimit?: RateLimitOptions;
  /** Where `/metrics` and `/health` are served (off when undefined). */
  readonly metrics?: { readonly host: string; readonly port: number };
  readonly trace: boolean;
  /** The stream JetStream outputs publish to (docs/scale-out.md). */
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
  maxOpenFiles: 1024,
  fileIdleClose: 60_000,
  pauseAbove: 64 * 1024 * 1024,
  outputBacklog: 16 * 1024 * 1024,
  defaultOutputName: 'files',
  jetstreamOutputName: 'jetstream',
  ndjsonService: 'ndjson',
  httpService: 'http',
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
  /** Where /metrics and /health are served (`host:port`), when `metrics` is set. */
  readonly metricsAddress?: string;
  /** Drains (stop reading, write and acknowledge what was read, close) and resolves when done. */
  stop(reason: string): Promise<void>;
  /** Resolves once the collector has fully stopped, whatever stopped it (STOP/QUIT too). */
  readonly done: Promise<void>;
  /** Reopens every output file (logrotate's LOG). */
  reopen(): Promise<void>;
  status(): Readonly<Record<string, string | number>>;
}
