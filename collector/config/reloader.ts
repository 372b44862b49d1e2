/**
 * RELOAD (PROTOCOL.md §5): re-reads the configuration, and applies it whole or refuses it whole.
 * reload-plan.ts says which keys are live; the live ones that a part holds are handed to it
 * here, the rest (token, secret_code, max_sources, pause_above, ack_delay, ...) are read where
 * used, from LiveConfig.
 */

import type { CollectorConfig, CollectorLog } from './config-types.js';
import type { LiveConfig } from './live-config.js';
import { planReload, type ReloadOutcome } from './reload-plan.js';

/** The parts that hold a live key, each told what changed. */
export interface ReloadTargets {
  /** path, format, validate. */
  readonly writer: { reconfigure(config: CollectorConfig): void };
  /** max_connections, idle_timeout. */
  readonly listeners: { setLimits(config: CollectorConfig): void };
  /** source_ttl. */
  readonly checkpoint: { setSourceTtl(ms: number): void; forgetIdle(): number };
  /** trace. */
  readonly trace: (on: boolean) => void;
}

export interface ReloaderDeps {
  readonly config: LiveConfig;
  /** Re-reads the configuration. Without it RELOAD is refused. */
  readonly source: (() => Promise<CollectorConfig>) | undefined;
  readonly targets: ReloadTargets;
  readonly log: CollectorLog;
  readonly onError: (error: unknown) => void;
}

export class Reloader {
  readonly #deps: ReloaderDeps;

  constructor(deps: ReloaderDeps) {
    this.#deps = deps;
  }

  async reload(): Promise<ReloadOutcome> {
    const { source, config, log } = this.#deps;
    if (source === undefined) return { kind: 'refused', reason: 'no_config_source' };
    let next: CollectorConfig;
    try {
      next = await source();
    } catch (error) {
      this.#deps.onError(error);
      return {
        kind: 'refused',
        reason: 'bad_config',
        error: error instanceof Error ? error.message : String(error),
      };
    }
    const plan = planReload(config.current, next);
    if (plan.kind === 'restart_needed') {
      log.warn(`RELOAD refused: ${plan.keys.join(', ')} cannot change without a restart`);
      return { kind: 'refused', reason: 'restart_needed', keys: plan.keys };
    }
    this.#apply(next);
    log.info('configuration reloaded', { changed: plan.changed });
    return { kind: 'applied', changed: plan.changed };
  }

  /** Puts every live key of `next` to work. */
  #apply(next: CollectorConfig): void {
    const { targets, config } = this.#deps;
    targets.writer.reconfigure(next);
    targets.listeners.setLimits(next);
    if (next.sourceTtl !== config.current.sourceTtl) {
      targets.checkpoint.setSourceTtl(next.sourceTtl);
      // A shorter source_ttl forgets now what it would forget at the next hourly check.
      targets.checkpoint.forgetIdle();
    }
    targets.trace(next.trace);
    config.replace(next);
  }
}
