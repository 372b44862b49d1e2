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

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { LogwireError } from '../shared/errors.js';
import { type Address, formatAddress } from '../shared/net/address.js';
import type { Listener, ListenLimits } from '../shared/net/listener.js';
import type { ListenerConfig } from './config-types.js';
import { readBody } from './http-body.js';
import { type IdempotencyKeys, validIdempotencyKey } from './http-idempotency.js';
import { normalizeOrigin } from './origin-policy.js';
import type { SessionHost } from './session-host.js';

const PATHS = new Set(['/', '/ingest']);

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

/** Constant-time comparison of a presented token with the configured one (lengths hidden too). */
export function tokenMatches(presented: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

function bearer(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export interface HttpIntakeParts {
  readonly host: SessionHost;
  readonly keys: IdempotencyKeys;
  /** The listener's allow_origins, read at each request (RELOAD may change it). */
  readonly allowOrigins: () => readonly string[];
}

export async function listenHttp(
  listener: ListenerConfig,
  limits: ListenLimits,
  parts: HttpIntakeParts,
): Promise<Listener> {
  const { host, keys } = parts;
  const sockets = new Set<Socket>();
  const route = (request: IncomingMessage) => {
    const remote = (request.socket.remoteAddress ?? 'unknown').replace(/[^A-Za-z0-9._-]/g, '_');
    return {
      source: `http-${remote}`.slice(0, 64),
      service: listener.service,
      host: `h${remote}`.slice(0, 64),
    };
  };
  /** Keys being written now: a concurrent retry waits for the first one's answer. */
  const inFlight = new Map<string, Promise<Answer>>();

  const handle = async (request: IncomingMessage): Promise<Answer> => {
    const origin = request.headers.origin;
    const token = host.config().token;
    if (origin !== undefined) {
      const normal = normalizeOrigin(origin);
      if (!((normal !== undefined && parts.allowOrigins().includes(normal)) || token !== undefined)) {
        return { status: 403, body: { error: `origin ${origin} is not in allow_origins` } };
      }
    }
    if (request.method === 'OPTIONS' && origin !== undefined) return { status: 204, body: {} };
    if (request.method !== 'POST') {
      return { status: 405, body: { error: 'only POST is accepted' }, headers: { Allow: 'POST' } };
    }
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (!PATHS.has(path)) return { status: 404, body: { error: `POST to / or /ingest, not ${path}` } };
    if (token !== undefined) {
      const presented = bearer(request);
      if (presented === undefined || !tokenMatches(presented, token)) {
        return {
          status: 401,
          body: { error: 'a valid Authorization: Bearer <token> is required' },
          headers: { 'WWW-Authenticate': 'Bearer' },
        };
      }
    }
    const key = request.headers['idempotency-key'];
    if (typeof key === 'string' && !validIdempotencyKey(key)) {
      return { status: 400, body: { error: 'Idempotency-Key must be 1 to 255 visible ASCII characters' } };
    }
    if (host.stopping() || host.paused()) {
      return {
        status: 503,
        body: { error: 'the collector is busy or stopping: retry' },
        headers: { 'Retry-After': '1' },
      };
    }
    if (typeof key !== 'string') return ingest(request, undefined);
    const written = keys.lookup(key);
    if (written !== undefined) return { status: 200, body: { records: written, duplicate: true } };
    const running = inFlight.get(key);
    if (running !== undefined) {
      request.resume();
      return running;
    }
    const answer = ingest(request, key).finally(() => inFlight.delete(key));
    inFlight.set(key, answer);
    return answer;
  };

  const ingest = async (request: IncomingMessage, key: string | undefined): Promise<Answer> => {
    const maxBody = host.config().maxBody;
    const read = await readBody(request, maxBody);
    if (read.kind === 'too_large') {
      // The rest of the body is not read: the connection closes after the answer.
      return {
        status: 413,
        body: { error: `the body is over max_body (${maxBody} bytes)` },
        headers: { Connection: 'close' },
      };
    }
    if (read.kind === 'bad') {
      host.counters.protocolErrors += 1;
      return { status: 400, body: { error: read.reason } };
    }
    host.counters.batches += 1;
    return new Promise<Answer>((resolve) => {
      host.writer.submit({
        route: route(request),
        seq: 0,
        count: read.count,
        body: read.body,
        mode: 'ndjson',
        done: () => {
          // Saved before the answer: a retry after a restart is still a no-op.
          if (key !== undefined) keys.remember(key, read.count);
          resolve({ status: 200, body: { records: read.count } });
        },
        fail: (error) =>
          resolve({
            status: 503,
            body: { error: `not written: ${error instanceof Error ? error.message : String(error)}` },
            headers: { 'Retry-After': '1' },
          }),
      });
    });
  };

  const server = createServer((request, response) => {
    handle(request).then(
      (answer) => respond(request, response, answer),
      (error: unknown) => respond(request, response, { status: 500, body: { error: String(error) } }),
    );
  });
  server.maxConnections = limits.maxConnections ?? Number.POSITIVE_INFINITY;
  server.on('connection', (socket: Socket) => {
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
