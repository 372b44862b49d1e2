/** `metrics = "127.0.0.1:9464"` / `--metrics ADDRESS`: where /metrics and /health are served. */

import { isIPv6 } from 'node:net';
import { configError, describe } from '../config/config-values.js';

export interface MetricsAddress {
  readonly host: string;
  readonly port: number;
}

/** `host:port` or `[v6]:port` (port 0: any free port); undefined when not given. */
export function readMetricsAddress(value: unknown, what: string): MetricsAddress | undefined {
  if (value === undefined) return undefined;
  const shape = `${what} must be HOST:PORT, like metrics = "127.0.0.1:9464"`;
  if (typeof value !== 'string') throw configError(`${shape} (got ${describe(value)})`);
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (match === null || host === undefined || port > 65535 || (match[1] !== undefined && !isIPv6(host))) {
    throw configError(`${shape} (got ${describe(value)})`);
  }
  return Object.freeze({ host, port });
}
