/**
 * What the HTTP ingest listener does with one request (intake/http-intake.ts serves them):
 * refuse it (origin, method, path, token, a bad Idempotency-Key, a busy collector), or read its
 * NDJSON body and hand it to the writer as one batch, answering 200 once the batch is written.
 * A retry with a known Idempotency-Key is answered without writing; a concurrent one waits for
 * the first one's answer.
 */

import type { IncomingMessage } from 'node:http';
import type { TokenCheck } from '../access/token-check.js';
import type { CollectorConfig, ListenerConfig } from '../config/config-types.js';
import type { CollectorCounters } from '../counters.js';
import type { Route } from '../writer/write-job.js';
import type { Writer } from '../writer/writer.js';
import { readBody } from './http-body.js';
import { type IdempotencyKeys, validIdempotencyKey } from './http-idempotency.js';
import { normalizeOrigin } from './origin-policy.js';

const PATHS = new Set(['/', '/ingest']);

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

export interface HttpIngestParts {
  /** max_body, read at each request (RELOAD). */
  readonly config: () => Pick<CollectorConfig, 'maxBody'>;
  /** The tokens the listener accepts now (access/token-check.ts: constant time). */
  readonly tokens: () => TokenCheck;
  readonly writer: Pick<Writer, 'submit'>;
  readonly counters: Pick<CollectorCounters, 'batches' | 'protocolErrors'>;
  /** STOP began, or the writer is behind (PAUSE): the client is asked to retry. */
  readonly stopping: () => boolean;
  readonly paused: () => boolean;
  readonly keys: IdempotencyKeys;
  /** The listener's allow_origins, read at each request (RELOAD may change it). */
  readonly allowOrigins: () => readonly string[];
}

function bearer(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export class HttpIngest {
  readonly #listener: ListenerConfig;
  readonly #parts: HttpIngestParts;
  /** Keys being written now: a concurrent retry waits for the first one's answer. */
  readonly #inFlight = new Map<string, Promise<Answer>>();

  constructor(listener: ListenerConfig, parts: HttpIngestParts) {
    this.#listener = listener;
    this.#parts = parts;
  }

  /** Answers one request: 200 once its records are written (a known Idempotency-Key: at once). */
  async handle(request: IncomingMessage): Promise<Answer> {
    const refused = this.#refusal(request);
    if (refused !== undefined) return refused;
    const key = request.headers['idempotency-key'];
    if (typeof key === 'string' && !validIdempotencyKey(key)) {
      return { status: 400, body: { error: 'Idempotency-Key must be 1 to 255 visible ASCII characters' } };
    }
    if (this.#parts.stopping() || this.#parts.paused()) {
      return {
        status: 503,
        body: { error: 'the collector is busy or stopping: retry' },
        headers: { 'Retry-After': '1' },
      };
    }
    if (typeof key !== 'string') return this.#ingest(request, undefined);
    const written = this.#parts.keys.lookup(key);
    if (written !== undefined) return { status: 200, body: { records: written, duplicate: true } };
    const running = this.#inFlight.get(key);
    if (running !== undefined) {
      request.resume();
      return running;
    }
    const answer = this.#ingest(request, key).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, answer);
    return answer;
  }

  /** The answer owed before the body is read (origin, method, path, token), if any. */
  #refusal(request: IncomingMessage): Answer | undefined {
    const origin = request.headers.origin;
    const tokens = this.#parts.tokens();
    if (origin !== undefined) {
      const normal = normalizeOrigin(origin);
      if (!((normal !== undefined && this.#parts.allowOrigins().includes(normal)) || tokens.required)) {
        return { status: 403, body: { error: `origin ${origin} is not in allow_origins` } };
      }
    }
    if (request.method === 'OPTIONS' && origin !== undefined) return { status: 204, body: {} };
    if (request.method !== 'POST') {
      return { status: 405, body: { error: 'only POST is accepted' }, headers: { Allow: 'POST' } };
    }
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (!PATHS.has(path)) return { status: 404, body: { error: `POST to / or /ingest, not ${path}` } };
    if (tokens.required) {
      const presented = bearer(request);
      if (!tokens.accepts(presented)) {
        return {
          status: 401,
          body: { error: 'a valid Authorization: Bearer <token> is required' },
          headers: { 'WWW-Authenticate': 'Bearer' },
        };
      }
    }
    return undefined;
  }

  async #ingest(request: IncomingMessage, key: string | undefined): Promise<Answer> {
    const maxBody = this.#parts.config().maxBody;
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
      this.#parts.counters.protocolErrors += 1;
      return { status: 400, body: { error: read.reason } };
    }
    this.#parts.counters.batches += 1;
    return new Promise<Answer>((resolve) => {
      this.#parts.writer.submit({
        route: this.#route(request),
        seq: 0,
        count: read.count,
        body: read.body,
        mode: 'ndjson',
        done: () => {
          // Saved before the answer: a retry after a restart is still a no-op.
          if (key !== undefined) this.#parts.keys.remember(key, read.count);
          resolve({ status: 200, body: { records: read.count } });
        },
        fail: (error: unknown) =>
          resolve({
            status: 503,
            body: { error: `not written: ${error instanceof Error ? error.message : String(error)}` },
            headers: { 'Retry-After': '1' },
          }),
      });
    });
  }

  #route(request: IncomingMessage): Route {
    const remote = (request.socket.remoteAddress ?? 'unknown').replace(/[^A-Za-z0-9._-]/g, '_');
    return {
      source: `http-${remote}`.slice(0, 64),
      service: this.#listener.service,
      host: `h${remote}`.slice(0, 64),
    };
  }
}
