import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { type Address, isLoopbackHost } from '../protocol/address.js';
import { activatedDescriptor } from './activation.js';
import type { TimerHandle } from './clock.js';
import type { Link } from './link.js';
import { formatRemote } from './links/peer-of.js';
import { UdpRemoteLink } from './links/udp-remote-link.js';
import {
  type Listener,
  type ListenLimits,
  listenFailure,
  type ResolvedListenOptions,
  resolveListenLimits,
} from './listen-options.js';

/** Bytes the kernel may buffer for a UDP listener (capped by net.core.rmem_max). */
export const UDP_RECEIVE_BUFFER = 4 * 1024 * 1024;

/**
 * A bound dgram socket that makes one link per remote (ip:port) on its first datagram
 * (PROTOCOL.md §7). Memory stays bounded: a remote idle for idleTimeout is forgotten, and past
 * maxConnections remotes the idlest is forgotten to make room. The Map keeps remotes in order
 * of their last datagram (delete + set), so both checks look only at its front.
 *
 * A systemd descriptor is opened with dgram's bind({ fd }); its family is whatever systemd
 * made (the handle is created udp4, which only matters for sending, and this never sends).
 */
export async function listenUdp(
  address: Address,
  options: ResolvedListenOptions,
  onLink: (link: Link) => void,
): Promise<Listener> {
  const listener = new UdpListener(address, options, onLink);
  await listener.start();
  return listener;
}

interface Remote {
  readonly link: UdpRemoteLink;
  last: number;
}

class UdpListener implements Listener {
  readonly #given: Address;
  /** Replaced whole by setLimits; everything else in it is fixed at start. */
  #options: ResolvedListenOptions;
  readonly #onLink: (link: Link) => void;
  readonly #socket: Socket;
  readonly #remotes = new Map<string, Remote>();
  #address: Address;
  #sweep: TimerHandle | undefined;
  #closing: Promise<void> | undefined;
  /** Datagrams of zero bytes, ignored (PROTOCOL.md §7). */
  emptyDatagrams = 0;

  constructor(address: Address, options: ResolvedListenOptions, onLink: (link: Link) => void) {
    this.#given = address;
    this.#address = address;
    this.#options = options;
    this.#onLink = onLink;
    const v6 = address.host !== undefined && isIPv6(address.host);
    // The default receive buffer holds ~25 datagrams of 8 KiB: a burst from one appender overruns it.
    this.#socket = createSocket({ type: v6 ? 'udp6' : 'udp4', recvBufferSize: UDP_RECEIVE_BUFFER });
    this.#socket.on('message', (msg, rinfo) => this.#receive(msg, rinfo));
  }

  get address(): Address {
    return this.#address;
  }

  get connections(): number {
    return this.#remotes.size;
  }

  /** A smaller maxConnections forgets the idlest remotes on the next new one. */
  setLimits(limits: ListenLimits): void {
    this.#options = Object.freeze({ ...this.#options, ...resolveListenLimits(this.#given, limits) });
    if (this.#sweep !== undefined) this.#options.clock.clearTimeout(this.#sweep);
    this.#sweep = undefined;
    this.#armSweep();
  }

  start(): Promise<void> {
    const { activation, host, port } = this.#given;
    const fd =
      activation === undefined ? undefined : activatedDescriptor(this.#given, this.#options.env, process.pid);
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.#socket.close();
        reject(listenFailure(this.#given, err));
      };
      this.#socket.once('error', onError);
      try {
        this.#socket.bind(fd === undefined ? { address: host, port } : { fd }, () => {
          this.#socket.off('error', onError);
          // A receive error is about one datagram; the socket goes on.
          this.#socket.on('error', () => {});
          const bound = this.#socket.address();
          this.#address = Object.freeze({ scheme: 'udp', host: bound.address, port: bound.port });
          resolve();
        });
      } catch (err) {
        this.#socket.off('error', onError);
        reject(listenFailure(this.#given, err));
      }
    });
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#sweep !== undefined) this.#options.clock.clearTimeout(this.#sweep);
      this.#sweep = undefined;
      for (const { link } of [...this.#remotes.values()]) link.destroy();
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve(); // never bound, or closed already
      }
    });
    return this.#closing;
  }

  #receive(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.#closing !== undefined) return;
    if (msg.length === 0) {
      this.emptyDatagrams += 1;
      return;
    }
    const key = formatRemote(rinfo.address, rinfo.port);
    const now = this.#options.clock.now();
    let remote = this.#remotes.get(key);
    if (remote === undefined) {
      remote = this.#track(key, rinfo, now);
    } else {
      this.#remotes.delete(key); // back to the end: the order is by last datagram
      this.#remotes.set(key, remote);
      remote.last = now;
    }
    remote.link.deliver(msg);
  }

  #track(key: string, rinfo: RemoteInfo, now: number): Remote {
    while (this.#remotes.size >= Math.max(1, this.#options.maxConnections)) {
      const idlest = this.#remotes.values().next().value;
      if (idlest === undefined) break;
      idlest.link.close();
    }
    const peer = Object.freeze({
      transport: 'udp' as const,
      remote: key,
      local: isLoopbackHost(rinfo.address),
      secure: false,
    });
    const link = new UdpRemoteLink(peer, (closed) => {
      if (this.#remotes.get(key)?.link === closed) this.#remotes.delete(key);
    });
    const remote: Remote = { link, last: now };
    this.#remotes.set(key, remote);
    this.#onLink(link);
    this.#armSweep();
    return remote;
  }

  /** One timer for all remotes, due when the idlest one would reach idleTimeout. */
  #armSweep(): void {
    const idle = this.#options.idleTimeout;
    if (idle === undefined || this.#sweep !== undefined || this.#closing !== undefined) return;
    const idlest = this.#remotes.values().next().value;
    if (idlest === undefined) return;
    const clock = this.#options.clock;
    this.#sweep = clock.setTimeout(
      () => {
        this.#sweep = undefined;
        const now = clock.now();
        for (const remote of [...this.#remotes.values()]) {
          if (now - remote.last < idle) break;
          remote.link.close();
        }
        this.#armSweep();
      },
      Math.max(0, idlest.last + idle - clock.now()),
    );
  }
}
