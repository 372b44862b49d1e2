/**
 * The HTTP ingest listener (`http/127.0.0.1:PORT`): `POST /` (or `/ingest`) of NDJSON, gzip
 * accepted, for clients that can only speak HTTP (browsers, serverless functions, curl).
 *
 *   POST ─▶ token, Origin ─▶ body (≤ max_body, every line a JSON object) ─▶ writer (ndjson batch)
 *        ◀── 200 once the writer's checkpoint covers the records ◀── Idempotency-Key remembered
 *
 * 200 means written: a client that gets no answer may retry without fear of loss. Without an
 * `Idempotency-Key` a retry may write the records twice (at least once); with one, a retry of
 * a POST that was written is answered 200 again without writing (http-idempotency.ts). It takes
 * no control commands.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { LogwireError } from '../../shared/errors.js';
import type { Listener, ListenLimits } from '../../shared/net/listener.js';
import { type Address, formatAddress } from '../../shared/protocol/address.js';
import type { ListenerConfig } from '../config/config-types.js';
import { type Answer, HttpIngest, type HttpIngestParts } from './http-ingest.js';

export interface HttpIntakeParts extends HttpIngestParts {
  /** The listener's allow list (access/listener-access.ts), asked with each peer's address. */
  readonly acceptRemote: (host: string) => boolean;
}

export async function listenHttp(
  listener: ListenerConfig,
  limits: ListenLimits,
  parts: HttpIntakeParts,
): Promise<Listener> {
  const sockets = new Set<Socket>();
  const ingest = new HttpIngest(listener, parts);

  const server = createServer((request, response) => {
    ingest.handle(request).then(
      (answer) => respond(request, response, answer),
      (error: unknown) => respond(request, response, { status: 500, body: { error: String(error) } }),
    );
  });
  server.maxConnections = limits.maxConnections ?? Number.POSITIVE_INFINITY;
  server.on('connection', (socket: Socket) => {
    // The allow list is checked before anything is read, as on every other listener.
    if (!parts.acceptRemote(socket.remoteAddress ?? '')) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket: Socket) => socket.destroy());
  const where = `listen ${formatAddress(listener.address)}`;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const hint = error.code === 'EADDRINUSE' ? ' — address in use' : '';
      reject(new LogwireError('LW_ERR_LISTEN', `${where}: ${error.message}${hint}`, { cause: error }));
    });
    server.listen(listener.address.port ?? 0, listener.address.host, () => resolve());
  });
  const bound = server.address();
  const address: Address = Object.freeze({
    scheme: 'http',
    host: listener.address.host ?? '127.0.0.1',
    port: typeof bound === 'object' && bound !== null ? bound.port : (listener.address.port ?? 0),
  });
  let closing: Promise<void> | undefined;
  return {
    address,
    get connections() {
      return sockets.size;
    },
    setLimits(next: ListenLimits) {
      server.maxConnections = next.maxConnections ?? Number.POSITIVE_INFINITY;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // In-flight requests were answered (the writer drained first); the rest are cut.
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

function respond(request: IncomingMessage, response: ServerResponse, answer: Answer): void {
  const origin = request.headers.origin;
  const cors: Record<string, string> =
    origin === undefined || answer.status === 403
      ? {}
      : {
          'Access-Control-Allow-Origin': origin,
          'Access-Control-Allow-Methods': 'POST',
          'Access-Control-Allow-Headers': 'Authorization, Content-Type, Content-Encoding, Idempotency-Key',
          Vary: 'Origin',
        };
  const text = `${JSON.stringify(answer.body)}\n`;
  response.writeHead(answer.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...cors,
    ...answer.headers,
  });
  response.end(text);
  // A body not read (an early refusal) is drained, so the connection stays usable.
  if (!request.complete) request.resume();
}
