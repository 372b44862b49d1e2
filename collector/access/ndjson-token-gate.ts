/**
 * A token on an ndjson listener. Plain NDJSON has no messages to carry one, so a connection to
 * such a listener must open with one line `{"token":"SECRET"}`; only then are the lines after
 * it taken as records. A wrong or missing token (or a first line that is not one, or longer
 * than TOKEN_LINE_MAX) closes the connection, and nothing it sent is written.
 *
 *   waiting ──first line, accepted──▶ open (the rest goes on, as data)
 *      └────first line refused, or too long──▶ refused (destroyed)
 *
 * It is a Link around the socket's link, so the ndjson intake sees only what follows the token.
 */

import { EventEmitter } from 'node:events';
import type { Framing, Link, LinkEvents } from '../../shared/net/link.js';
import type { PeerInfo } from '../../shared/protocol/peer.js';
import type { TokenCheck } from './token-check.js';

/** Bytes the token line may take, its LF included. */
export const TOKEN_LINE_MAX = 4096;

type GateState = 'waiting' | 'open' | 'refused';

/** The token a first line carries: `{"token":"…"}`, nothing else. */
export function tokenOfLine(line: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  const token = (value as Record<string, unknown>).token;
  return keys.length === 1 && typeof token === 'string' ? token : undefined;
}

export class NdjsonTokenGate implements Link {
  readonly #inner: Link;
  readonly #tokens: TokenCheck;
  readonly #onRefused: () => void;
  readonly #events = new EventEmitter();
  #state: GateState = 'waiting';
  #head: Buffer[] = [];
  #headBytes = 0;

  constructor(inner: Link, tokens: TokenCheck, onRefused: () => void) {
    this.#inner = inner;
    this.#tokens = tokens;
    this.#onRefused = onRefused;
    inner.on('data', (chunk) => this.#data(chunk));
    inner.on('drain', () => this.#events.emit('drain'));
    inner.once('close', (error) => this.#events.emit('close', error));
  }

  get framing(): Framing {
    return this.#inner.framing;
  }
  get peer(): PeerInfo {
    return this.#inner.peer;
  }
  get pendingBytes(): number {
    return this.#inner.pendingBytes;
  }
  get closed(): boolean {
    return this.#inner.closed;
  }
  get state(): GateState {
    return this.#state;
  }

  write(parts: readonly Buffer[]): boolean {
    return this.#inner.write(parts);
  }
  pauseReading(): void {
    this.#inner.pauseReading();
  }
  resumeReading(): void {
    this.#inner.resumeReading();
  }
  close(): void {
    this.#inner.close();
  }
  destroy(error?: Error): void {
    this.#inner.destroy(error);
  }

  on<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this {
    this.#events.on(event, listener);
    return this;
  }
  off<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this {
    this.#events.off(event, listener);
    return this;
  }
  once<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this {
    this.#events.once(event, listener);
    return this;
  }

  #data(chunk: Buffer): void {
    if (this.#state === 'open') {
      this.#events.emit('data', chunk);
      return;
    }
    if (this.#state === 'refused') return;
    const lf = chunk.indexOf(0x0a);
    const upTo = lf === -1 ? chunk.length : lf;
    if (this.#headBytes + upTo + 1 > TOKEN_LINE_MAX) {
      this.#refuse();
      return;
    }
    if (lf === -1) {
      this.#head.push(chunk);
      this.#headBytes += chunk.length;
      return;
    }
    const line = Buffer.concat([...this.#head, chunk.subarray(0, lf)]).toString('utf8');
    this.#head = [];
    if (!this.#tokens.accepts(tokenOfLine(line.replace(/\r$/, '')))) {
      this.#refuse();
      return;
    }
    this.#state = 'open';
    const rest = chunk.subarray(lf + 1);
    if (rest.length > 0) this.#events.emit('data', rest);
  }

  #refuse(): void {
    this.#state = 'refused';
    this.#head = [];
    this.#onRefused();
    this.#inner.destroy();
  }
}
