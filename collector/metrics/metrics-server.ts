/**
 * The HTTP endpoint of `metrics = "HOST:PORT"`: `GET /metrics` (Prometheus text) and
 * `GET /health` (200 `ok`, or 503 with the reason). Anything else is 404; only GET and HEAD.
 */

import { createServer, type Server } from 'node:http';
import { LogwireError } from '../../shared/errors.js';
import type { CollectorMetrics } from './collector-metrics.js';
import type { Health } from './health-check.js';
import type { MetricsAddress } from './metrics-address.js';

export interface MetricsServer {
  /** `host:port` as bound (the real port when 0 was asked). */
  readonly address: string;
  close(): Promise<void>;
}

export async function serveMetrics(
  at: MetricsAddress,
  metrics: CollectorMetrics,
  health: () => Promise<Health>,
  acceptRemote: (host: string) => boolean = () => true,
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const remote = req.socket.remoteAddress;
    if (remote !== undefined && !acceptRemote(remote)) {
      req.socket.destroy();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const answer = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (path === '/metrics') {
      metrics.text().then(
        (text) => answer(200, metrics.contentType, text),
        (error: unknown) => answer(500, 'text/plain', `${String(error)}\n`),
      );
    } else if (path === '/health') {
      health().then(
        (h) => (h.healthy ? answer(200, 'text/plain', 'ok\n') : answer(503, 'text/plain', `${h.reason}\n`)),
        (error: unknown) => answer(503, 'text/plain', `${String(error)}\n`),
      );
    } else {
      answer(404, 'text/plain', 'try /metrics or /health\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new LogwireError('LW_ERR_LISTEN', `metrics ${at.host}:${at.port}: ${error.code ?? error.message}`, {
          cause: error,
        }),
      ),
    );
    server.listen({ host: at.host, port: at.port }, () => resolve());
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : at.port;
  const host = at.host.includes(':') ? `[${at.host}]` : at.host;
  return {
    address: `${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
