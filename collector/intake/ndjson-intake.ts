/**
 * The plain NDJSON listener (PROTOCOL.md §10): raw records, one per line, no messages, no
 * acks — how pino-socket and other NDJSON shippers reach the collector. Each chunk's whole
 * lines go to the writer as one batch (two when the chunk ends a line the one before left
 * open: only that line is copied). A line over max_body is rejected (counted, and noted in
 * _rejected.log without its bytes, as an EVENTS body over max_body is) and the connection
 * closed (PROTOCOL.md §10); every whole line received before it or beside it is still written.
 */

import type { Link } from '../../shared/net/link.js';
import type { SessionHost } from './session-host.js';

const LF = 0x0a;

/** LF-terminated lines: how many, and the longest (without its LF). */
interface Lines {
  readonly body: Buffer;
  readonly count: number;
  readonly longest: number;
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
  for (let from = 0, lf = body.indexOf(LF); lf !== -1; from = lf + 1, lf = body.indexOf(LF, from)) {
    count += 1;
    if (lf - from > longest) longest = lf - from;
  }
  return { body, count, longest };
}

/**
 * Takes the records of one ndjson link. `onHeld` hears the bytes kept for a line not yet ended,
 * whenever they change (the collector's held budget).
 */
export function acceptNdjson(
  link: Link,
  service: string,
  host: SessionHost,
  onHeld: (bytes: number) => void = () => {},
): void {
  const source = `ndjson-${link.peer.remote.replace(/[^A-Za-z0-9._-]/g, '_')}`.slice(0, 64);
  const peerHost =
    (link.peer.remote.split(':')[0] || 'unknown').replace(/[^A-Za-z0-9._-]/g, '_') || 'unknown';
  const route = { source, service, host: /^[A-Za-z0-9]/.test(peerHost) ? peerHost : `h${peerHost}` };
  let partial: Buffer[] = [];
  let partialBytes = 0;
  host.counters.connections += 1;

  link.on('data', (chunk) => {
    if (host.stopping()) return; // STOP: what came before is written, nothing after
    const lastLf = chunk.lastIndexOf(LF);
    if (lastLf === -1) {
      partial.push(chunk);
      partialBytes += chunk.length;
      if (partialBytes > host.config().maxBody) {
        // The open line is already too long: rejected without waiting for its end.
        partial = [];
        partialBytes = 0;
        host.counters.batches += 1;
        submitPiece('too_long');
        tooLong();
      } else onHeld(partialBytes);
      return;
    }
    // Only the line the previous chunk left open is copied; the rest goes on as a view.
    let from = 0;
    let head: Lines | undefined;
    if (partial.length > 0) {
      from = chunk.indexOf(LF) + 1;
      head = lines(Buffer.concat([...partial, chunk.subarray(0, from)]));
    }
    const tail = from <= lastLf ? lines(chunk.subarray(from, lastLf + 1)) : undefined;
    const rest = chunk.subarray(lastLf + 1);
    partial = rest.length === 0 ? [] : [rest];
    const before = partialBytes;
    partialBytes = rest.length;
    submit(head, tail);
    if (partialBytes !== before) onHeld(partialBytes);
  });
  link.once('close', () => {
    // A last line without its LF is still a record the peer meant to send.
    if (partialBytes > 0) submit(lines(Buffer.concat([...partial, Buffer.from('\n')])), undefined);
  });

  /** Whole lines of one chunk: the head (completing an open line) and the tail, one batch each. */
  function submit(head: Lines | undefined, tail: Lines | undefined): void {
    const maxBody = host.config().maxBody;
    const long = Math.max(head?.longest ?? 0, tail?.longest ?? 0) > maxBody;
    host.counters.batches += 1;
    for (const part of [head, tail]) {
      if (part === undefined) continue;
      if (!long) submitPiece(part);
      else for (const piece of cutLongLines(part, maxBody)) submitPiece(piece);
    }
    if (long) tooLong();
  }

  function submitPiece(piece: Piece): void {
    host.writer.submit({
      route,
      seq: 0,
      count: piece === 'too_long' ? 1 : piece.count,
      // No body: the writer rejects the one record as body_too_large and counts it.
      body: piece === 'too_long' ? undefined : piece.body,
      mode: 'ndjson',
      done: () => {},
      fail: () => {},
    });
  }

  /** After a line over max_body: closed; an open line received after it is written at close. */
  function tooLong(): void {
    host.badInputLog.warn(link.peer, 'ndjson line over max_body: rejected, connection closed', {
      remote: link.peer.remote,
      max_body: host.config().maxBody,
    });
    onHeld(0);
    link.destroy();
  }
}
