/**
 * What RELOAD (PROTOCOL.md §5) does with each configuration key: applied to the running
 * collector at once, or refused with `restart_needed` because it is fixed once the collector
 * runs (open files, the checkpoint, bound sockets, each connection's frame limits, the TLS
 * server's handshake timer). Every key of CollectorConfig is classed here, so a new key cannot
 * be answered OK and then ignored: it does not compile until it is classed.
 */

import type { CollectorConfig } from './config-types.js';

/**
 * What RELOAD did: applied (naming the keys that changed), or refused with the reason, the keys
 * at fault (`restart_needed`) or the configuration error (`bad_config`); the old one stays.
 */
export type ReloadOutcome =
  | { readonly kind: 'applied'; readonly changed: readonly string[] }
  | {
      readonly kind: 'refused';
      readonly reason: string;
      readonly keys?: readonly string[];
      readonly error?: string;
    };

type Application = 'live' | 'restart';

const RELOAD_KEYS = {
  listeners: 'restart',
  output: 'restart',
  state: 'restart',
  path: 'live',
  format: 'live',
  outputs: 'restart',
  routes: 'restart',
  fileMode: 'restart',
  dirMode: 'restart',
  durability: 'restart',
  validate: 'live',
  maxLine: 'restart',
  maxBody: 'restart',
  ackDelay: 'live',
  maxSources: 'live',
  sourceTtl: 'live',
  maxConnections: 'live',
  idleTimeout: 'live',
  handshakeTimeout: 'restart',
  registerTimeout: 'live',
  maxOpenFiles: 'restart',
  fileIdleClose: 'restart',
  pauseAbove: 'live',
  secretCode: 'live',
  token: 'live',
  allow: 'live',
  maxConnectionsPerPeer: 'live',
  rateLimit: 'live',
  metrics: 'restart',
  trace: 'live',
  jetstream: 'restart',
  fromJetstream: 'restart',
} as const satisfies Record<keyof CollectorConfig, Application>;

type ConfigKey = keyof typeof RELOAD_KEYS;

/** What a RELOAD will do: apply `changed` (the keys as written in the file), or refuse. */
export type ReloadPlan =
  | { readonly kind: 'apply'; readonly changed: readonly string[] }
  | { readonly kind: 'restart_needed'; readonly keys: readonly string[] };

/** Compares the running configuration with the one just read. */
export function planReload(current: CollectorConfig, next: CollectorConfig): ReloadPlan {
  const keys = (Object.keys(RELOAD_KEYS) as ConfigKey[]).filter(
    (key) => key !== 'listeners' && JSON.stringify(current[key]) !== JSON.stringify(next[key]),
  );
  const changed = [...new Set(keys.map(fileKey))];
  const fixed = [...new Set(keys.filter((key) => RELOAD_KEYS[key] === 'restart').map(fileKey))];
  // A listener's socket is fixed once bound; its allow_origins is read at every upgrade.
  if (JSON.stringify(bound(current)) !== JSON.stringify(bound(next))) fixed.push('listen');
  else if (JSON.stringify(origins(current)) !== JSON.stringify(origins(next))) changed.push('allow_origins');
  return fixed.length > 0 ? { kind: 'restart_needed', keys: fixed } : { kind: 'apply', changed };
}

function bound(config: CollectorConfig): unknown[] {
  return config.listeners.map(({ allowOrigins: _origins, ...rest }) => rest);
}

function origins(config: CollectorConfig): unknown[] {
  return config.listeners.map((listener) => listener.allowOrigins ?? []);
}

/** The key as the TOML file spells it: snake_case; `listen`, `output`, `route` for the tables. */
function fileKey(key: ConfigKey): string {
  if (key === 'listeners') return 'listen';
  // Whether files are written beside JetStream follows from whether `output` is set.
  if (key === 'outputs') return 'output';
  if (key === 'routes') return 'route';
  return key.replace(/[A-Z]/g, (upper) => `_${upper.toLowerCase()}`);
}
