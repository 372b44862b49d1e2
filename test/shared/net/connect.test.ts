import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LogwireError } from '../../../shared/errors.js';
import { connectLink } from '../../../shared/net/connect.js';
import { type Listener, listen } from '../../../shared/net/listener.js';
import { parseAddress } from '../../../shared/protocol/address.js';
import { testCert } from '../../helpers/certs.js';
import { closeOf, LinkInbox, tempDir, unansweringPort, within } from '../../helpers/net-fixtures.js';

/** A plain TCP server that accepts and never says a word: no TLS hello, no HTTP answer. */
class SilentServer {
  readonly sockets: Socket[] = [];
  readonly #server: Server;
  readonly #waiters: ((s: Socket) => void)[] = [];

  constructor() {
    this.#server = createServer((socket) => {
      socket.on('error', () => {});
      socket.resume(); // read and drop, so the client's FIN is seen
      this.sockets.push(socket);
      this.#waiters.shift()?.(socket);
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as { port: number }).port;
  }

  /** The n-th accepted socket. */
  accepted(n: number): Promise<Socket> {
    const have = this.sockets[n];
    if (have !== undefined) return Promise.resolve(have);
    return within(new Promise((resolve) => this.#waiters.push(resolve)), `accept #${n}`);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

function socketClosed(socket: Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return within(new Promise((resolve) => socket.once('close', () => resolve())), 'the socket to close');
}

/** Client TCP sockets this process holds open (libuv handles), once closes in flight are done. */
async function tcpSockets(): Promise<number> {
  // A destroyed socket's handle goes in the close phase of a later loop turn.
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

async function rejection(promise: Promise<unknown>): Promise<LogwireError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LogwireError);
  return err as LogwireError;
}

describe('connectLink', () => {
  const { cert } = testCert();
  let silent: SilentServer;
  let silentPort: number;
  let unanswering: Awaited<ReturnType<typeof unansweringPort>>;

  beforeAll(async () => {
    silent = new SilentServer();
    silentPort = await silent.start();
    unanswering = await unansweringPort();
  });

  afterAll(async () => {
    unanswering.stop();
    await silent.stop();
  });

  describe('timeouts', () => {
    it('rejects with LW_ERR_CONNECT_TIMEOUT against a port that never answers', async () => {
      const address = parseAddress(`tcp/127.0.0.1:${unanswering.port}`);
      const sockets = await tcpSockets();
      const err = await rejection(connectLink(address, { connectTimeout: 200 }));
      expect(err.code).toBe('LW_ERR_CONNECT_TIMEOUT');
      expect(err.message).toContain(`tcp/127.0.0.1:${unanswering.port}`);
      expect(await tcpSockets()).toBe(sockets);
    });

    it('rejects with LW_ERR_HANDSHAKE_TIMEOUT when a TLS peer never answers the hello', async () => {
      const before = silent.sockets.length;
      const address = parseAddress(`tls/127.0.0.1:${silentPort}`);
      const err = await rejection(connectLink(address, { handshakeTimeout: 200, tls: { ca: cert } }));
      expect(err.code).toBe('LW_ERR_HANDSHAKE_TIMEOUT');
      expect(err.message).toContain('TLS handshake');
      // Nothing is left behind: the server sees the connection go.
      await socketClosed(await silent.accepted(before));
    });

    it('rejects with LW_ERR_HANDSHAKE_TIMEOUT when a WebSocket upgrade gets no answer', async () => {
      const before = silent.sockets.length;
      const address = parseAddress(`ws/127.0.0.1:${silentPort}/logs`);
      const err = await rejection(connectLink(address, { handshakeTimeout: 200 }));
      expect(err.code).toBe('LW_ERR_HANDSHAKE_TIMEOUT');
      await socketClosed(await silent.accepted(before));
    });
  });

  describe('abort', () => {
    it('rejects with LW_ERR_CLOSED when aborted during the connect, leaving no socket', async () => {
      const sockets = await tcpSockets();
      const stop = new AbortController();
      const pending = connectLink(parseAddress(`tcp/127.0.0.1:${unanswering.port}`), {}, stop.signal);
      expect(await tcpSockets()).toBe(sockets + 1);
      stop.abort();
      const err = await rejection(pending);
      expect(err.code).toBe('LW_ERR_CLOSED');
      expect(await tcpSockets()).toBe(sockets);
    });

    for (const scheme of ['tls', 'ws', 'wss'] as const) {
      it(`rejects with LW_ERR_CLOSED when aborted during the ${scheme} handshake`, async () => {
        const before = silent.sockets.length;
        const stop = new AbortController();
        const path = scheme === 'tls' ? '' : '/logs';
        const address = parseAddress(`${scheme}/127.0.0.1:${silentPort}${path}`);
        const pending = connectLink(address, { tls: { ca: cert } }, stop.signal);
        const socket = await silent.accepted(before);
        stop.abort();
        expect((await rejection(pending)).code).toBe('LW_ERR_CLOSED');
        await socketClosed(socket);
      });
    }

    it('rejects at once when the signal is already aborted', async () => {
      const stop = new AbortController();
      stop.abort();
      const err = await rejection(connectLink(parseAddress(`tcp/127.0.0.1:${silentPort}`), {}, stop.signal));
      expect(err.code).toBe('LW_ERR_CLOSED');
    });
  });

  describe('failures', () => {
    it('names the address and the cause when the port is closed', async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      await new Promise((resolve) => server.close(resolve));
      const err = await rejection(connectLink(parseAddress(`tcp/127.0.0.1:${port}`)));
      expect(err.code).toBe('LW_ERR_CONNECT');
      expect(err.message).toBe(
        `connect tcp/127.0.0.1:${port}: connection refused — is the collector running? (ECONNREFUSED)`,
      );
      expect((err.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    });

    it('says when a Unix socket file does not exist', async () => {
      const dir = tempDir();
      try {
        const err = await rejection(connectLink(parseAddress(`unix/${dir.path}/none.sock`)));
        expect(err.code).toBe('LW_ERR_CONNECT');
        expect(err.message).toContain('ENOENT');
      } finally {
        dir.remove();
      }
    });

    it('refuses an untrusted certificate', async () => {
      const { cert: c, key } = testCert();
      const listener = await listen(parseAddress('tls/127.0.0.1:0'), { tls: { cert: c, key } }, () => {});
      try {
        const err = await rejection(connectLink(listener.address));
        expect(err.code).toBe('LW_ERR_CONNECT');
        expect(err.message).toContain('tls handshake failed');
      } finally {
        await listener.close();
      }
    });

    it('refuses a WebSocket path the listener does not serve', async () => {
      const listener = await listen(parseAddress('ws/127.0.0.1:0/logs'), {}, () => {});
      try {
        const address = parseAddress(`ws/127.0.0.1:${listener.address.port}/other`);
        const err = await rejection(connectLink(address));
        expect(err.code).toBe('LW_ERR_CONNECT');
        expect(err.message).toContain('404');
      } finally {
        await listener.close();
      }
    });

    it('cannot connect to a systemd socket', async () => {
      const err = await rejection(connectLink(parseAddress('tcp/systemd#0')));
      expect(err.code).toBe('LW_ERR_BAD_ADDRESS');
    });
  });

  describe('closing a link', () => {
    let listener: Listener;
    const inbox = new LinkInbox();

    beforeAll(async () => {
      listener = await listen(parseAddress('tcp/127.0.0.1:0'), {}, inbox.onLink);
    });

    afterAll(async () => {
      await listener.close();
    });

    afterEach(() => {
      for (const link of inbox.links) link.destroy();
    });

    it('is idempotent, and a write after close sends nothing', async () => {
      const link = await connectLink(listener.address);
      const closed = closeOf(link);
      link.close();
      link.close();
      link.destroy();
      expect(link.closed).toBe(true);
      expect(link.write([Buffer.from('LATE\n')])).toBe(false);
      expect(await closed).toBeUndefined();
      link.close();
      link.destroy(new Error('after the end'));
    });

    it("ends when the peer goes away, with a 'close' and no exception", async () => {
      const n = inbox.links.length;
      const link = await connectLink(listener.address);
      link.on('data', () => {});
      const server = await inbox.nth(n);
      const closed = closeOf(link);
      server.destroy();
      expect(await closed).toBeUndefined(); // a FIN from a destroyed peer is a clean end
    });
  });
});
