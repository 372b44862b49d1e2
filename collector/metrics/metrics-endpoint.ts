/**
 * `/metrics` and `/health` as a part of the running collector: served (when `metrics` is set)
 * once the listeners are up, behind the top-level allow list, and closed by the stop sequence.
 */

import { requireAllow } from '../access/access-config.js';
import { type AccessCounters, remoteCheck } from '../access/listener-access.js';
import type { CollectorConfig } from '../config/config-types.js';
import type { CollectorMetrics } from './collector-metrics.js';
import type { Health } from './health-check.js';
import { type MetricsServer, serveMetrics } from './metrics-server.js';

export class MetricsEndpoint {
  #server: MetricsServer | undefined;

  /** `host:port` served, once open (undefined when `metrics` is not set). */
  get address(): string | undefined {
    return this.#server?.address;
  }

  /** Serves `metrics` and `health` where `config().metrics` says; nothing when it is unset. */
  async open(
    config: () => CollectorConfig,
    metrics: CollectorMetrics | undefined,
    health: () => Promise<Health>,
    counters: Pick<AccessCounters, 'refusedAddress'>,
  ): Promise<void> {
    const at = config().metrics;
    if (at === undefined || metrics === undefined) return;
    requireAllow({ scheme: 'tcp', ...at }, config().allow, 'metrics');
    this.#server = await serveMetrics(
      at,
      metrics,
      health,
      remoteCheck(() => config().allow, counters),
    );
  }

  async close(): Promise<void> {
    await this.#server?.close();
  }
}
