import { describe, expect, it } from 'vitest';
import { CollectorMetrics, type MetricsSource } from '../../../collector/metrics/collector-metrics.js';
import { loadMetrics, NO_METRICS } from '../../../collector/metrics/metrics-sink.js';

describe('loadMetrics', () => {
  it('gives no metrics (and reads no source) without `metrics`, and the no-op sink takes every event', async () => {
    let asked = false;
    const none = await loadMetrics({}, () => {
      asked = true;
      return {} as MetricsSource;
    });
    expect(none).toBeUndefined();
    expect(asked).toBe(false);
    expect(() => {
      NO_METRICS.bytesReceived('tcp', 10);
      NO_METRICS.reopened();
      NO_METRICS.reloaded('applied');
    }).not.toThrow();
  });

  it('loads the collector metrics when `metrics` is configured', async () => {
    const zero = () => 0;
    const source = {
      counters: {},
      access: {},
      sessions: zero,
      connections: zero,
      pausedSessions: zero,
      queuedBytes: zero,
      heldBytes: zero,
      openFiles: zero,
      udpLost: zero,
      sources: zero,
      forwards: () => [],
    } as unknown as MetricsSource;
    const metrics = await loadMetrics({ metrics: { host: '127.0.0.1', port: 0 } }, () => source);
    expect(metrics).toBeInstanceOf(CollectorMetrics);
    metrics!.reopened();
    expect(await metrics!.text()).toMatch(/^logwire_reopens_total 1$/m);
  });
});
