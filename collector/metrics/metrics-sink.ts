/**
 * What the collector tells its metrics as things happen. Without `metrics` configured nothing
 * listens: NO_METRICS stands in and prom-client is never loaded (in a short run, loading it took
 * about a tenth of the collector's CPU).
 */

import type { CollectorConfig } from '../config/config-types.js';
import type { CollectorMetrics, MetricsSource } from './collector-metrics.js';

export type MetricsSink = Pick<CollectorMetrics, 'committed' | 'bytesReceived' | 'reopened' | 'reloaded'>;

export const NO_METRICS: MetricsSink = Object.freeze({
  committed() {},
  bytesReceived() {},
  reopened() {},
  reloaded() {},
});

/** The collector's metrics when `metrics` is configured (prom-client loaded then), else none. */
export async function loadMetrics(
  config: Pick<CollectorConfig, 'metrics'>,
  source: () => MetricsSource,
): Promise<CollectorMetrics | undefined> {
  if (config.metrics === undefined) return undefined;
  const { CollectorMetrics } = await import('./collector-metrics.js');
  return new CollectorMetrics(source());
}
