/**
 * The plain NDJSON listener (PROTOCOL.md §10): raw records, one per line, no messages, no
 * acks — how pino-socket and other NDJSON shippers reach the collector. Each chunk's whole
 * lines go to the writer as one batch; a line over max_body is rejected and the connection
 * closed (its framing cannot be trusted).
 */

import type { Link } from '../shared/net/link.js';
import type { SessionHost } from './session-host.js';

const LF = 0x0a;

export function acceptNdjson(link: Link, service: string, host: SessionHost): void {
  const source = `ndjson-${link.peer.remote.replace(/[^A-Za-z0-9._-]/g, '_')}`.slice(0, 64);
  const peerHost =
    (link.peer.remote.split(':')[0] || 'unknown').replace(/[^A-Za-z0-9._-]/g, '_') || 'unknown';
  const route = { source, service, host: /^[A-Za-z0-9]/.test(peerHost) ? peerHost : `h${peerHost}` };
  let partial: Buffer[] = [];
  let partialBytes = 0;
  host.counters.connections += 1;

  link.on('data', (chunk) => {
    const lastLf = chunk.lastIndexOf(LF);
    if (lastLf === -1) {
      partial.push(chunk);
      partialBytes += chunk.length;
      if (partialBytes > host.config().maxBody) tooLong();
      return;
    }
    const head = chunk.subarray(0, lastLf + 1);
    const body = partial.length === 0 ? head : Buffer.concat([...partial, head]);
    const rest = chunk.subarray(lastLf + 1);
    partial = rest.length === 0 ? [] : [rest];
    partialBytes = rest.length;
    submit(body);
  });
  link.once('close', () => {
    // A last line without its LF is still a record the peer meant to send.
    if (partialBytes > 0) submit(Buffer.concat([...partial, Buffer.from('\n')]));
  });

  function submit(body: Buffer): void {
    let count = 0;
    let longest = 0;
    for (let from = 0, lf = body.indexOf(LF); lf !== -1; from = lf + 1, lf = body.indexOf(LF, from)) {
      count += 1;
      longest = Math.max(longest, lf - from);
    }
    if (longest > host.config().maxBody) {
      tooLong();
      return;
    }
    host.counters.batches += 1;
    host.writer.submit({
      kind: 'batch',
      route,
      seq: 0,
      count,
      body,
      mode: 'ndjson',
      done: () => {},
      fail: () => {},
    });
  }

  function tooLong(): void {
    host.log.warn('ndjson line over max_body: connection closed', { remote: link.peer.remote });
    partial = [];
    partialBytes = 0;
    link.destroy();
  }
}
