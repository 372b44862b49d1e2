import type { Socket } from 'node:net';
import { isLoopbackHost } from '../../protocol/address.js';
import type { PeerInfo, Transport } from '../../protocol/peer.js';

export interface PeerOfOptions {
  /** The Unix socket path (the remote end of a Unix socket has no name of its own). */
  readonly path?: string;
  /** A WebSocket upgrade carried an Origin header: a browser, never trusted as local (PROTOCOL.md §5). */
  readonly browser?: boolean;
}

/**
 * Who is at the other end of `socket` (PROTOCOL.md §5): Unix and loopback peers are local,
 * tls and wss are secure. For a TLS socket pass the TLS socket; remoteAddress is the same.
 */
export function peerOf(socket: Socket, transport: Transport, opts: PeerOfOptions = {}): PeerInfo {
  const host = socket.remoteAddress;
  const unix = host === undefined && (transport === 'unix' || opts.path !== undefined);
  const remote = unix ? (opts.path ?? 'unix') : formatRemote(host ?? '?', socket.remotePort);
  const local = opts.browser !== true && (unix || (host !== undefined && isLoopbackHost(host)));
  return Object.freeze({ transport, remote, local, secure: transport === 'tls' || transport === 'wss' });
}

/** `host:port`, or `[v6]:port`. */
export function formatRemote(host: string, port: number | undefined): string {
  const shown = host.includes(':') ? `[${host}]` : host;
  return port === undefined ? shown : `${shown}:${port}`;
}
