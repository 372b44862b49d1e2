/**
 * The plain NDJSON listener (PROTOCOL.md §10): raw records, one per line, no messages, no
 * acks — how pino-socket and other NDJSON shippers reach the collector. Each chunk's whole
 * lines go to the writer as one batch: a view of the chunk, or, when the chunk ends a line the
 * one before left open, that line and the chunk's lines copied into one pooled buffer (as the
 * frame decoder copies an EVENTS body). One pass over the lines counts them and checks their
 * shape (`{`…`}`), so the writer's shape check need not scan them again. A line over max_body
 * is rejected (counted, and noted in _rejected.log without its bytes, as an EVENTS body over
 * max_body is) and the connection closed (PROTOCOL.md §10); every whole line received before
 * it or beside it is still written.
 */

import type { Link } from '../../shared/net/link.js';
import type { CollectorConfig } from '../config/config-types.js';
import type { CollectorCounters } from '../counters.js';
import type { Route } from '../writer/write-job.js';
import type { Writer } from '../writer/writer.js';
import type { PeerLogLimit } from './peer-log-limit.js';

/** What the ndjson intake needs of the running collector. */
export interface NdjsonDeps {
  /** max_body, read at each use (RELOAD). */
  readonly config: () => Pick<CollectorConfig, 'maxBody'>;
  readonly writer: Pick<Writer, 'submit'>;
  readonly counters: Pick<CollectorCounters, 'connections' | 'batches'>;
  /** STOP began: what came before is written, nothing after. */
  readonly stopping: () => boolean;
  readonly badInputLog: Pick<PeerLogLimit, 'warn'>;
  /** `bytes` bytes of pooled memory, given back by the writer once written (default: a new Buffer). */
  readonly bodyBuffer?: (bytes: number) => Buffer;
}

const LF = 0x0a;
const LF_ONLY = Buffer.from([LF]);
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** LF-terminated lines: how many, the longest (without its LF), and whether each is `{`…`}`. */
interface Lines {
  readonly body: Buffer;
  readonly count: number;
  readonly longest: number;
  readonly braced: boolean;
}

/** A run of good lines, or a line over max_body (its bytes are not kept). */
type Piece = Lines | 'too_long';

/** `part` cut at its lines over `maxBody`: runs of the others (views), in order, around them. */
function cutLongLines(part: Lines, maxBody: number): Piece[] {
  const pieces: Piece[] = [];
  const { body } = part;
  let runStart = 0;
  for (let from = 0, lf = body.indexOf(LF); lf !== -1; from = lf + 1, lf = body.indexOf(LF, from)) {
    if (lf - from <= maxBody) continue;
    if (from > runStart) pieces.push(lines(body.subarray(runStart, from)));
    pieces.push('too_long');
    runStart = lf + 1;
  }
  if (runStart < body.length) pieces.push(lines(body.subarray(runStart)));
  return pieces;
}

function lines(body: Buffer): Lines {
  let count = 0;
  let longest = 0;
  let braced = true;
  for (let from = 0, lf = body.indexOf(LF); lf !== -1; from = lf + 1, lf = body.indexOf(LF, from)) {
    count += 1;
    if (lf - from > longest) longest = lf - from;
    if (lf === from || body[from] !== OPEN_BRACE || body[lf - 1] !== CLOSE_BRACE) braced = false;
  }
  return { body, count, longest, braced };
}

/** The route of an ndjson peer's records: source and host made from its address. */
function ndjsonRoute(remote: string, service: string): Route {
  const source = `ndjson-${remote.replace(/[^A-Za-z0-9._-]/g, '_')}`.slice(0, 64);
  const peerHost = (remote.split(':')[0] || 'unknown').replace(/[^A-Za-z0-9._-]/g, '_') || 'unknown';
  return { source, service, host: /^[A-Za-z0-9]/.test(peerHost) ? peerHost : `h${peerHost}` };
}

/**
 * Takes the records of one ndjson link. `onHeld` hears the bytes kept for a line not yet ended,
 * whenever they change (the collector's held budget).
 */
export function acceptNdjson(
  link: Link,
  service: string,
  deps: NdjsonDeps,
  onHeld: (bytes: number) => void = () => {},
): void {
  const stream = new NdjsonStream(link, ndjsonRoute(link.peer.remote, service), deps, onHeld);
  deps.counters.connections += 1;
  link.on('data', (chunk) => stream.data(chunk));
  // A last line without its LF is still a record the peer meant to send.
  link.once('close', () => stream.closed());
}

/** One link's byte stream cut into batches of whole lines. */
class NdjsonStream {
  #partial: Buffer[] = [];
  #partialBytes = 0;

  constructor(
    private readonly link: Link,
    private readonly route: Route,
    private readonly deps: NdjsonDeps,
    private readonly onHeld: (bytes: number) => void,
  ) {}

  data(chunk: Buffer): void {
    if (this.deps.stopping()) return; // STOP: what came before is written, nothing after
    const lastLf = chunk.lastIndexOf(LF);
    if (lastLf === -1) {
      this.#partial.push(chunk);
      this.#partialBytes += chunk.length;
      if (this.#partialBytes > this.deps.config().maxBody) {
        // The open line is already too long: rejected without waiting for its end.
        this.#partial = [];
        this.#partialBytes = 0;
        this.deps.counters.batches += 1;
        this.#submitPiece('too_long');
        this.#tooLong();
      } else this.onHeld(this.#partialBytes);
      return;
    }
    const whole = chunk.subarray(0, lastLf + 1);
    const body = this.#partial.length === 0 ? whole : this.#joined(whole);
    const rest = chunk.subarray(lastLf + 1);
    this.#partial = rest.length === 0 ? [] : [rest];
    const before = this.#partialBytes;
    this.#partialBytes = rest.length;
    this.#submit(lines(body));
    if (this.#partialBytes !== before) this.onHeld(this.#partialBytes);
  }

  /** The open line's bytes, then `whole`, in one buffer: the chunk's lines go as one batch. */
  #joined(whole: Buffer): Buffer {
    const body =
      this.deps.bodyBuffer?.(this.#partialBytes + whole.length) ??
      Buffer.allocUnsafe(this.#partialBytes + whole.length);
    let at = 0;
    for (const part of this.#partial) at += part.copy(body, at);
    whole.copy(body, at);
    return body;
  }

  closed(): void {
    // The open line, ended by the close: joined as a chunk's open line is.
    if (this.#partialBytes > 0) this.#submit(lines(this.#joined(LF_ONLY)));
  }

  /** Whole lines of one chunk, as one batch (cut around any line over max_body). */
  #submit(part: Lines): void {
    const maxBody = this.deps.config().maxBody;
    this.deps.counters.batches += 1;
    if (part.longest <= maxBody) {
      this.#submitPiece(part);
      return;
    }
    for (const piece of cutLongLines(part, maxBody)) this.#submitPiece(piece);
    this.#tooLong();
  }

  #submitPiece(piece: Piece): void {
    this.deps.writer.submit({
      route: this.route,
      seq: 0,
      count: piece === 'too_long' ? 1 : piece.count,
      // No body: the writer rejects the one record as body_too_large and counts it.
      body: piece === 'too_long' ? undefined : piece.body,
      mode: 'ndjson',
      braced: piece !== 'too_long' && piece.braced,
      done: () => {},
      fail: () => {},
    });
  }

  /** After a line over max_body: closed; an open line received after it is written at close. */
  #tooLong(): void {
    this.deps.badInputLog.warn(this.link.peer, 'ndjson line over max_body: rejected, connection closed', {
      remote: this.link.peer.remote,
      max_body: this.deps.config().maxBody,
    });
    this.onHeld(0);
    this.link.destroy();
  }
}
