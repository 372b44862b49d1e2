import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import type { ClientOptions, WebSocket } from 'ws';
import { LogwireError } from '../errors.js';
import { type Address, formatAddress } from '../protocol/address.js';
import type { Transport } from '../protocol/peer.js';
import { type Clock, systemClock } from './clock.js';
import type { Own } from './connect-udp.js';
import type { Link } from './link.js';
import { formatRemote, peerOf } from './links/peer-of.js';
import { SocketLink } from './links/socket-link.js';
import { WS_SUBPROTOCOL, WsLink } from './links/ws-link.js';

/** A link's connect, when `connectLink` is not given one (the appender's own default is shorter). */
export const DEFAULT_LINK_CONNECT_TIMEOUT = 10_000;
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/** Client TLS material, PEM text or Buffers; by default the system's CAs verify the peer. */
export interface TlsClientOptions {
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** SNI and certificate name; default the address's host when it is a name, not an IP. */
  readonly servername?: string;
  /** Default true; false accepts any certificate (tests, pinned networks). */
  readonly rejectUnauthorized?: boolean;
}

export interface ConnectOptions {
  /** From the first SYN (or Unix connect, or UDP lookup) to connected, in ms. Default 10000. */
  readonly connectTimeout?: number;
  /** The TLS handshake plus the WebSocket upgrade, in ms. Default 10000. */
  readonly handshakeTimeout?: number;
  readonly tls?: TlsClientOptions;
  readonly ws?: {
    readonly headers?: Readonly<Record<string, string>>;
    /** Largest WebSocket message accepted from the peer, in bytes (ws's default: 100 MiB). */
    readonly maxPayload?: number;
  };
  /** How long close() lets a stalled flush go on before destroying (SocketLink, WsLink). */
  readonly closeGrace?: number;
  readonly clock?: Clock;
}

type Phase = 'connect' | 'handshake';

/**
 * Connects to `address` and resolves with a Link (tcp, ndjson, tls, unix, ws, wss, udp).
 * Never blocks the event loop. Rejects with a LogwireError naming the address:
 * LW_ERR_CONNECT_TIMEOUT, LW_ERR_HANDSHAKE_TIMEOUT, LW_ERR_CONNECT (refused, unreachable,
 * certificate, upgrade refused; `cause` is the socket's error) or LW_ERR_CLOSED when `signal`
 * aborts, after which no socket is left and no error is emitted anywhere.
 */
export async function connectLink(
  address: Address,
  options: ConnectOptions = {},
  signal?: AbortSignal,
): Promise<Link> {
  const attempt = new ConnectAttempt(address, options, signal);
  let link: Link;
  try {
    link = await attempt.run();
  } catch (err) {
    attempt.abandon();
    throw err;
  }
  // Aborted in the last moment (after the last step, before this line ran): the caller gave up.
  if (signal?.aborted) {
    link.destroy();
    throw attempt.closedError();
  }
  return link;
}

/** The sockets of one attempt, and the deadline and abort handling of each phase. */
class ConnectAttempt {
  readonly #address: Address;
  readonly #options: ConnectOptions;
  readonly #signal: AbortSignal | undefined;
  readonly #clock: Clock;
  readonly #text: string;
  readonly #owned: { destroy(): void }[] = [];

  constructor(address: Address, options: ConnectOptions, signal: AbortSignal | undefined) {
    this.#address = address;
    this.#options = options;
    this.#signal = signal;
    this.#clock = options.clock ?? systemClock;
    this.#text = formatAddress(address);
  }

  async run(): Promise<Link> {
    const { scheme, activation } = this.#address;
    if (this.#signal?.aborted) throw this.closedError();
    if (activation !== undefined) {
      throw new LogwireError(
        'LW_ERR_BAD_ADDRESS',
        `connect ${this.#text}: a systemd socket can only be listened on, not connected to`,
      );
    }
    if (scheme === 'udp') {
      // Loaded on first use, like tls and ws: a TCP appender's worker starts without them.
      const { connectUdp } = await import('./connect-udp.js');
      return connectUdp(this.#address, (run) => this.phase('connect', run), this.#own);
    }
    const socket = await this.phase('connect', (signal) => this.#connectSocket(signal));
    const grace = { closeGrace: this.#options.closeGrace, clock: this.#clock };
    if (scheme === 'tcp' || scheme === 'ndjson' || scheme === 'unix') {
      const path = scheme === 'unix' ? this.#address.path : undefined;
      return new SocketLink(socket, peerOf(socket, scheme, { path }), grace);
    }
    return this.phase('handshake', async (signal) => {
      const secure = scheme === 'tls' || scheme === 'wss';
      const stream = secure ? await this.#tlsHandshake(socket, signal) : socket;
      if (scheme === 'tls') return new SocketLink(stream, peerOf(stream, 'tls'), grace);
      const ws = await this.#wsUpgrade(stream, signal);
      return new WsLink(ws, peerOf(stream, scheme as Transport), grace);
    });
  }

  /** Runs one phase against its deadline and the caller's signal; maps why it stopped. */
  async phase<T>(phase: Phase, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.#signal?.aborted) throw this.closedError();
    const stop = new AbortController();
    let reason: LogwireError | undefined;
    const ms =
      phase === 'connect'
        ? (this.#options.connectTimeout ?? DEFAULT_LINK_CONNECT_TIMEOUT)
        : (this.#options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT);
    const timer = this.#clock.setTimeout(() => {
      reason = this.#timeoutError(phase, ms);
      stop.abort(reason);
    }, ms);
    const onAbort = (): void => {
      reason = this.closedError();
      stop.abort(reason);
    };
    this.#signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await run(stop.signal);
    } catch (err) {
      throw reason ?? this.#failure(phase, err);
    } finally {
      this.#clock.clearTimeout(timer);
      this.#signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Tears down whatever this attempt opened; nothing it owns may emit an error afterwards. */
  abandon(): void {
    for (const thing of this.#owned.reverse()) thing.destroy();
    this.#owned.length = 0;
  }

  /** Registers a socket (or WebSocket) to destroy if the attempt fails; errors are kept quiet. */
  readonly #own: Own = (thing) => {
    thing.on('error', () => {}); // reported through the phase that was waiting, or not at all
    this.#owned.push(thing);
    return thing;
  };

  async #connectSocket(signal: AbortSignal): Promise<Socket> {
    const { scheme, host, port, path } = this.#address;
    const socket = this.#own(
      scheme === 'unix'
        ? netConnect({ path: path ?? '' })
        : netConnect({ host: host ?? '', port: port ?? 0 }),
    );
    await once(socket, 'connect', { signal });
    if (scheme !== 'unix') socket.setNoDelay(true);
    return socket;
  }

  async #tlsHandshake(socket: Socket, signal: AbortSignal): Promise<Socket> {
    const tls = this.#options.tls ?? {};
    const host = this.#address.host ?? '';
    const isIp = host.includes(':') || /^[\d.]+$/.test(host);
    const { connect: tlsConnect } = await import('node:tls');
    const secure = this.#own(
      tlsConnect({
        socket,
        host,
        servername: tls.servername ?? (isIp ? undefined : host),
        ca: tls.ca as string | Buffer | (string | Buffer)[] | undefined,
        cert: tls.cert,
        key: tls.key,
        rejectUnauthorized: tls.rejectUnauthorized ?? true,
      }),
    );
    await once(secure, 'secureConnect', { signal });
    return secure;
  }

  async #wsUpgrade(stream: Socket, signal: AbortSignal): Promise<WebSocket> {
    const { scheme, host, port, path } = this.#address;
    const url = `${scheme}://${formatRemote(host ?? '', port)}${path ?? '/'}`;
    const options: ClientOptions = {
      // The socket is already connected (and encrypted): ws only speaks HTTP over it.
      createConnection: (() => stream) as unknown as ClientOptions['createConnection'],
      perMessageDeflate: false,
      headers: { ...this.#options.ws?.headers },
      maxPayload: this.#options.ws?.maxPayload,
    };
    // Loaded on first use: an appender that never speaks WebSocket starts without ws (~20 ms).
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(url, [WS_SUBPROTOCOL], options);
    this.#own({ destroy: () => ws.terminate(), on: (event, fn) => ws.on(event, fn) });
    // Paused inside 'open' itself: messages that came with the 101 wait for the messenger.
    ws.once('open', () => ws.pause());
    await once(ws, 'open', { signal });
    return ws;
  }

  closedError(): LogwireError {
    return new LogwireError('LW_ERR_CLOSED', `connect ${this.#text}: closed while connecting`);
  }

  #timeoutError(phase: Phase, ms: number): LogwireError {
    if (phase === 'connect') {
      return new LogwireError(
        'LW_ERR_CONNECT_TIMEOUT',
        `connect ${this.#text}: no connection within ${ms} ms (connectTimeout) — is the host up and reachable?`,
      );
    }
    const what = this.#address.scheme === 'tls' ? 'TLS handshake' : 'TLS and WebSocket handshake';
    return new LogwireError(
      'LW_ERR_HANDSHAKE_TIMEOUT',
      `connect ${this.#text}: the ${what} did not finish within ${ms} ms (handshakeTimeout) — is it a ${this.#address.scheme} listener?`,
    );
  }

  #failure(phase: Phase, err: unknown): LogwireError {
    if (err instanceof LogwireError) return err;
    const what = phase === 'handshake' ? `${this.#address.scheme} handshake failed: ` : '';
    return new LogwireError('LW_ERR_CONNECT', `connect ${this.#text}: ${what}${describeError(err)}`, {
      cause: err,
    });
  }
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused — is the collector running?',
  ECONNRESET: 'connection reset by the peer',
  ENOENT: 'no such socket file — is the collector running?',
  EACCES: 'permission denied',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed (temporary)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'the peer closed the connection',
};

/** "connection refused — … (ECONNREFUSED)", or the error's own message. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const text = code !== undefined ? ERRNO_TEXT[code] : undefined;
  return text !== undefined ? `${text} (${code})` : err.message;
}
