import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import { WebSocketServer } from 'ws';
import { LogwireError } from '../errors.js';
import { type Address, formatAddress } from '../protocol/address.js';
import type { Transport } from '../protocol/peer.js';
import { activatedDescriptor } from './activation.js';
import type { TimerHandle } from './clock.js';
import { watchIdle } from './idle-watch.js';
import type { Link } from './link.js';
import { peerOf } from './links/peer-of.js';
import { SocketLink } from './links/socket-link.js';
import { WS_SUBPROTOCOL, WsLink } from './links/ws-link.js';
import type { Listener, ListenLimits, ResolvedListenOptions } from './listen-options.js';
import { listenFailure, resolveListenLimits } from './listen-options.js';
import { bindPrivately, claimUnixPath, resolveGroup, setUnixPermissions } from './unix-socket.js';

/**
 * Every stream scheme over one plain net.Server, so a systemd descriptor, a Unix path and a
 * TCP port all work the same way and the connection limit counts raw sockets:
 *
 *   accept ─▶ tcp, unix, ndjson ───────────────────────────────▶ SocketLink
 *          ─▶ tls  ─▶ tls.Server (never listening) ─────────────▶ SocketLink
 *          ─▶ ws   ─▶ http.Server (never listening) ─▶ upgrade ─▶ WsLink
 *          ─▶ wss  ─▶ tls.Server ─▶ http.Server ─────▶ upgrade ─▶ WsLink
 */
export async function listenStream(
  address: Address,
  options: ResolvedListenOptions,
  onLink: (link: Link) => void,
): Promise<Listener> {
  const listener = new StreamListener(address, options, onLink);
  await listener.start();
  return listener;
}

class StreamListener implements Listener {
  readonly #given: Address;
  /** Replaced whole by setLimits; everything else in it is fixed at start. */
  #options: ResolvedListenOptions;
  readonly #onLink: (link: Link) => void;
  readonly #where: string;
  readonly #transport: Transport;
  readonly #server: Server;
  readonly #tls: TlsServer | undefined;
  readonly #http: HttpServer | undefined;
  readonly #wss: WebSocketServer | undefined;
  readonly #raw = new Set<Socket>();
  /** Open links, each with the function that stops its idle watch (none: no idleTimeout). */
  readonly #links = new Map<Link, (() => void) | undefined>();
  /** Streams between accept (or TLS) and the WebSocket upgrade, with their deadline. */
  readonly #upgrading = new Map<Socket, TimerHandle>();
  #address: Address;
  #unixPath: string | undefined;
  #closing: Promise<void> | undefined;

  constructor(address: Address, options: ResolvedListenOptions, onLink: (link: Link) => void) {
    this.#given = address;
    this.#address = address;
    this.#options = options;
    this.#onLink = onLink;
    this.#where = `listen ${formatAddress(address)}`;
    this.#transport = address.scheme;
    this.#server = createServer((raw) => this.#accept(raw));
    const scheme = address.scheme;
    // ndjson may run over TLS too, to ask its peers for client certificates.
    if (scheme === 'tls' || scheme === 'wss' || (scheme === 'ndjson' && options.tls !== undefined))
      this.#tls = this.#createTls();
    if (scheme === 'ws' || scheme === 'wss') {
      this.#http = this.#createHttp();
      this.#wss = new WebSocketServer({
        noServer: true,
        clientTracking: false,
        perMessageDeflate: false,
        maxPayload: options.wsMaxPayload,
        handleProtocols: (offered) => (offered.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
      });
    }
  }

  get address(): Address {
    return this.#address;
  }

  get connections(): number {
    return this.#raw.size;
  }

  setLimits(limits: ListenLimits): void {
    this.#options = Object.freeze({ ...this.#options, ...resolveListenLimits(this.#given, limits) });
    for (const [link, stopWatch] of this.#links) {
      stopWatch?.();
      this.#links.set(link, this.#watch(link));
    }
  }

  async start(): Promise<void> {
    const { activation, scheme, path, host, port } = this.#given;
    if (activation !== undefined) {
      const fd = activatedDescriptor(this.#given, this.#options.env, process.pid);
      // An inherited descriptor is a "handle" to net ({ fd }), not a listen option.
      await this.#bind(() => this.#server.listen({ fd }, this.#options.backlog), false);
    } else if (scheme === 'unix') {
      const socketPath = path ?? '';
      const group = this.#options.unixGroup;
      const gid = group === undefined ? undefined : await resolveGroup(group, this.#where);
      await claimUnixPath(socketPath, this.#where);
      await this.#bind(() => this.#server.listen({ path: socketPath, backlog: this.#options.backlog }), true);
      try {
        await setUnixPermissions(socketPath, this.#options.unixMode, gid, this.#where);
      } catch (err) {
        await this.close();
        throw err;
      }
    } else {
      await this.#bind(() => this.#server.listen({ host, port, backlog: this.#options.backlog }), false);
    }
    // Accept errors (EMFILE…) come as 'error' on a listening server; the next accept may work.
    this.#server.on('error', () => {});
    this.#address = this.#realAddress();
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      const serverClosed = new Promise<void>((done) => this.#server.close(() => done()));
      for (const link of this.#links.keys()) link.destroy();
      for (const raw of this.#raw) raw.destroy();
      this.#http?.close(() => {});
      // net counts a socket gone before its 'close' is emitted: wait for those too.
      const sockets = [...this.#raw].map(
        (raw) => new Promise<void>((done) => raw.once('close', () => done())),
      );
      void Promise.all([serverClosed, ...sockets]).then(() => resolve());
    });
    return this.#closing;
  }

  #bind(listen: () => void, privately: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.#server.off('listening', onListening);
        reject(listenFailure(this.#given, err));
      };
      const onListening = (): void => {
        this.#server.off('error', onError);
        resolve();
      };
      this.#server.once('error', onError);
      this.#server.once('listening', onListening);
      try {
        if (privately) bindPrivately(listen);
        else listen();
      } catch (err) {
        this.#server.off('error', onError).off('listening', onListening);
        reject(listenFailure(this.#given, err));
      }
    });
  }

  #realAddress(): Address {
    const bound = this.#server.address();
    const { scheme } = this.#given;
    if (bound === null || typeof bound === 'string') {
      // A Unix socket: net knows the path only when it bound it (not for a systemd one).
      this.#unixPath = bound === null || bound === '' ? formatAddress(this.#given) : bound;
      return scheme === 'unix' && typeof bound === 'string' && bound !== ''
        ? Object.freeze({ scheme, path: bound })
        : this.#given;
    }
    const wsPath = scheme === 'ws' || scheme === 'wss' ? this.#options.wsPath : undefined;
    return Object.freeze({
      scheme,
      host: bound.address,
      port: bound.port,
      ...(wsPath === undefined ? {} : { path: wsPath }),
    });
  }

  #accept(raw: Socket): void {
    const remote = raw.remoteAddress;
    const refused = remote !== undefined && this.#options.acceptRemote?.(remote) === false;
    if (refused || this.#closing !== undefined || this.#raw.size >= this.#options.maxConnections) {
      raw.destroy();
      return;
    }
    this.#raw.add(raw);
    // READY and ACKs are small writes a client waits on: with Nagle's algorithm one waits for
    // the TCP ACK of the one before, which a client with nothing to send delays 40 ms.
    raw.setNoDelay(true);
    raw.on('error', () => {}); // during a handshake nobody else listens; a link reports its own
    raw.once('close', () => this.#raw.delete(raw));
    const scheme = this.#given.scheme;
    if (this.#tls !== undefined) this.#tls.emit('connection', raw);
    else if (this.#http !== undefined) this.#toHttp(raw);
    else this.#adopt(new SocketLink(raw, this.#peer(raw, scheme), this.#linkOptions()));
  }

  #createTls(): TlsServer {
    const tls = this.#options.tls!;
    let server: TlsServer;
    try {
      server = createTlsServer({
        cert: tls.cert,
        key: tls.key,
        ca: tls.ca as string | Buffer | (string | Buffer)[] | undefined,
        requestCert: tls.requestCert ?? false,
        rejectUnauthorized: tls.requestCert ?? false,
        handshakeTimeout: this.#options.handshakeTimeout,
      });
    } catch (err) {
      throw new LogwireError(
        'LW_ERR_BAD_OPTION',
        `${this.#where}: tls.cert or tls.key: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    server.on('secureConnection', (socket: TLSSocket) => {
      if (this.#closing !== undefined) socket.destroy();
      else if (this.#http !== undefined) this.#toHttp(socket);
      else this.#adopt(new SocketLink(socket, this.#peer(socket, this.#transport), this.#linkOptions()));
    });
    // A failed or timed-out handshake (handshakeTimeout): that connection ends, nothing else.
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    return server;
  }

  #createHttp(): HttpServer {
    const server = createHttpServer((_req, res) => {
      res.writeHead(426, { Connection: 'close', Upgrade: 'websocket' });
      res.end(`a logwire WebSocket listener: upgrade with subprotocol ${WS_SUBPROTOCOL}\n`);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.#upgrade(req, socket, head),
    );
    server.on('clientError', (_err, socket: Socket) => socket.destroy());
    return server;
  }

  #toHttp(stream: Socket): void {
    const { clock, handshakeTimeout } = this.#options;
    const timer = clock.setTimeout(() => stream.destroy(), handshakeTimeout);
    this.#upgrading.set(stream, timer);
    stream.once('close', () => this.#endUpgrade(stream));
    this.#http!.emit('connection', stream);
  }

  #endUpgrade(stream: Socket): void {
    const timer = this.#upgrading.get(stream);
    if (timer === undefined) return;
    this.#options.clock.clearTimeout(timer);
    this.#upgrading.delete(stream);
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const wanted = this.#options.wsPath;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (this.#closing !== undefined || (wanted !== undefined && path !== wanted)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const origin = req.headers.origin;
    const acceptOrigin = this.#options.wsAcceptOrigin;
    if (origin !== undefined && acceptOrigin !== undefined && !acceptOrigin(origin)) {
      // A web page the listener does not allow: refused before any protocol message is read.
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss!.handleUpgrade(req, socket, head, (ws) => {
      this.#endUpgrade(socket);
      const peer = this.#peer(socket, this.#transport, req.headers.origin !== undefined);
      this.#adopt(new WsLink(ws, peer, this.#linkOptions()));
    });
  }

  #peer(socket: Socket, transport: Transport, browser = false) {
    return peerOf(socket, transport, { path: this.#unixPath, browser });
  }

  #linkOptions() {
    return { closeGrace: this.#options.closeGrace, clock: this.#options.clock };
  }

  #adopt(link: Link): void {
    if (this.#closing !== undefined) {
      link.destroy();
      return;
    }
    this.#links.set(link, undefined);
    link.once('close', () => this.#links.delete(link));
    this.#onLink(link);
    if (this.#links.has(link)) this.#links.set(link, this.#watch(link));
  }

  #watch(link: Link): (() => void) | undefined {
    const idle = this.#options.idleTimeout;
    return idle === undefined || link.closed ? undefined : watchIdle(link, idle, this.#options.clock);
  }
}
