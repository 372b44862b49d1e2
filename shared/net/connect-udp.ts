import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { once } from 'node:events';
import { isIP } from 'node:net';
import { type Address, isLoopbackHost } from '../protocol/address.js';
import type { Link } from './link.js';
import { formatRemote } from './links/peer-of.js';
import { UdpLink } from './links/udp-link.js';

/** Runs a step against the connect deadline and the caller's signal (ConnectAttempt.phase). */
export type ConnectPhase = <T>(run: (signal: AbortSignal) => Promise<T>) => Promise<T>;
/** Registers a socket to destroy if the attempt fails, and keeps its errors quiet. */
export type Own = <T extends { destroy(): void; on(event: 'error', fn: () => void): unknown }>(thing: T) => T;

/**
 * A connected UDP socket: the kernel then sends to one peer and delivers only its datagrams.
 * A name is looked up first, since a dgram socket has one family.
 */
export async function connectUdp(address: Address, phase: ConnectPhase, own: Own): Promise<Link> {
  const host = address.host ?? '';
  const port = address.port ?? 0;
  return phase(async (signal) => {
    const ip = isIP(host) !== 0 ? host : await abortable(lookup(host), signal).then((r) => r.address);
    const socket = createSocket(isIP(ip) === 6 ? 'udp6' : 'udp4');
    own({ destroy: () => closeQuietly(socket), on: (event, fn) => socket.on(event, fn) });
    socket.connect(port, ip);
    await once(socket, 'connect', { signal });
    const peer = Object.freeze({
      transport: 'udp' as const,
      remote: formatRemote(ip, port),
      local: isLoopbackHost(ip),
      secure: false,
    });
    return new UdpLink(socket, peer);
  });
}

/** Resolves or rejects as `promise` does, or rejects when `signal` aborts (the lookup runs on, ignored). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => {}); // a lookup that fails after the abort must not be unhandled
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function closeQuietly(socket: ReturnType<typeof createSocket>): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}
