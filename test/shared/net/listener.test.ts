import { request } from 'node:http';
import { connect as netConnect, Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { LogwireError } from '../../../shared/errors.js';
import { ManualClock } from '../../../shared/net/clock.js';
import { type ConnectOptions, connectLink } from '../../../shared/net/connect.js';
import type { Link } from '../../../shared/net/link.js';
import { WS_SUBPROTOCOL } from '../../../shared/net/links/ws-link.js';
import { type Listener, type ListenOptions, listen } from '../../../shared/net/listener.js';
import { formatAddress, parseAddress } from '../../../shared/protocol/address.js';
import { testCert } from '../../helpers/certs.js';
import { closeOf, LinkInbox, until, within } from '../../helpers/net-fixtures.js';

const { cert, key } = testCert();

describe('listen', () => {
  const listeners: Listener[] = [];
  const clients: { destroy(): void }[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await Promise.all(listeners.splice(0).map((l) => l.close()));
  });

  async function start(
    text: string,
    options: ListenOptions = {},
  ): Promise<{ listener: Listener; inbox: LinkInbox }> {
    const inbox = new LinkInbox();
    const listener = await listen(parseAddress(text), options, (link) => {
      link.on('data', () => {});
      inbox.onLink(link);
    });
    listeners.push(listener);
    return { listener, inbox };
  }

  async function client(listener: Listener, options: ConnectOptions = {}): Promise<Link> {
    const link = await connectLink(listener.address, { tls: { ca: cert }, ...options });
    clients.push(link);
    return link;
  }

  /** A raw TCP connection that sends nothing. */
  function rawClient(listener: Listener): Socket {
    const socket = netConnect(listener.address.port ?? 0, listener.address.host);
    socket.on('error', () => {});
    socket.resume();
    clients.push(socket);
    return socket;
  }

  function wsClient(listener: Listener, headers: Record<string, string>): Promise<WebSocket> {
    const { host, port, path } = listener.address;
    const ws = new WebSocket(`ws://${host}:${port}${path ?? '/'}`, [WS_SUBPROTOCOL], { headers });
    ws.on('error', () => {});
    clients.push({ destroy: () => ws.terminate() });
    return within(new Promise((resolve) => ws.once('open', () => resolve(ws))), 'ws open');
  }

  describe('#address', () => {
    it('has the real port when 0 was asked', async () => {
      const { listener } = await start('ws/$4:0/logs');
      expect(listener.address).toMatchObject({ scheme: 'ws', host: '127.0.0.1', path: '/logs' });
      expect(formatAddress(listener.address)).toMatch(/^ws\/127\.0\.0\.1:\d+\/logs$/);
    });
  });

  describe('accepted TCP sockets', () => {
    it("send without Nagle's algorithm, so a small ACK is not held behind the one before", async () => {
      const noDelay = vi.spyOn(Socket.prototype, 'setNoDelay');
      try {
        const { listener, inbox } = await start('tcp/127.0.0.1:0');
        const socket = rawClient(listener);
        await inbox.nth(0);
        // The calls made on the collector's end of this connection, and what each asked for.
        const asked = (noDelay.mock.contexts as Socket[]).flatMap((on, i) =>
          on.remotePort === socket.localPort ? [noDelay.mock.calls[i]?.[0]] : [],
        );
        expect(asked).toEqual([true]);
      } finally {
        noDelay.mockRestore();
      }
    });
  });

  describe('errors', () => {
    it('says the address is in use, naming it', async () => {
      const { listener } = await start('tcp/127.0.0.1:0');
      const err = await listen(listener.address, {}, () => {}).then(
        () => undefined,
        (e: unknown) => e as LogwireError,
      );
      expect(err).toBeInstanceOf(LogwireError);
      expect(err?.code).toBe('LW_ERR_LISTEN');
      expect(err?.message).toBe(
        `listen ${formatAddress(listener.address)}: address in use — is another collector running?`,
      );
    });

    it('needs a certificate and key for tls and wss', async () => {
      for (const scheme of ['tls', 'wss']) {
        await expect(listen(parseAddress(`${scheme}/127.0.0.1:0`), {}, () => {})).rejects.toMatchObject({
          code: 'LW_ERR_BAD_OPTION',
        });
      }
      await expect(
        listen(parseAddress('tls/127.0.0.1:0'), { tls: { cert: 'not a pem', key: 'nor this' } }, () => {}),
      ).rejects.toMatchObject({ code: 'LW_ERR_BAD_OPTION' });
    });
  });

  describe('maxConnections', () => {
    it('closes a connection beyond the limit at once, and takes one again when there is room', async () => {
      const { listener, inbox } = await start('tcp/127.0.0.1:0', { maxConnections: 2 });
      const first = await client(listener);
      await client(listener);
      await inbox.nth(1);
      expect(listener.connections).toBe(2);

      const third = await client(listener);
      third.on('data', () => {});
      expect(await closeOf(third)).toBeUndefined();
      expect(inbox.links).toHaveLength(2);

      first.close();
      await closeOf(inbox.links[0]!);
      await client(listener);
      await inbox.nth(2);
      expect(listener.connections).toBe(2);
    });
  });

  describe('idleTimeout', () => {
    it('closes a link that received nothing for idleTimeout ms; data keeps it open', async () => {
      const clock = new ManualClock();
      const received: Buffer[] = [];
      const inbox = new LinkInbox();
      const watched = await listen(parseAddress('tcp/127.0.0.1:0'), { idleTimeout: 1000, clock }, (link) => {
        link.on('data', (chunk) => received.push(chunk));
        inbox.onLink(link);
      });
      listeners.push(watched);

      const link = await client(watched);
      const serverLink = await inbox.nth(0);
      const arrived = (n: number): Promise<void> => until(() => received.length >= n, `${n} chunk(s)`);

      clock.advance(600);
      link.write([Buffer.from('ALIVE serial=1\n')]);
      await arrived(1);
      clock.advance(600);
      expect(serverLink.closed).toBe(false);

      const closed = closeOf(serverLink);
      clock.advance(1000);
      const err = await closed;
      expect(err).toMatchObject({ code: 'LW_ERR_IDLE_TIMEOUT' });
      expect(await closeOf(link)).toBeUndefined();
    });
  });

  describe('handshakeTimeout', () => {
    for (const scheme of ['tls', 'ws', 'wss'] as const) {
      it(`closes a ${scheme} connection that never finishes its handshake`, async () => {
        const path = scheme === 'tls' ? '' : '/logs';
        const { listener, inbox } = await start(`${scheme}/127.0.0.1:0${path}`, {
          handshakeTimeout: 200,
          tls: { cert, key },
        });
        const socket = rawClient(listener);
        await within(new Promise((resolve) => socket.once('close', resolve)), 'the server to hang up');
        expect(inbox.links).toHaveLength(0);
        await until(() => listener.connections === 0, 'no connection left');
      });
    }
  });

  describe('WebSocket', () => {
    it('trusts a loopback WebSocket as local only without an Origin header', async () => {
      const { listener, inbox } = await start('ws/127.0.0.1:0/logs');
      await wsClient(listener, {});
      expect((await inbox.nth(0)).peer).toMatchObject({ transport: 'ws', local: true, secure: false });
      await wsClient(listener, { Origin: 'http://127.0.0.1:8080' });
      expect((await inbox.nth(1)).peer).toMatchObject({ transport: 'ws', local: false });
    });

    it('answers a plain HTTP request with 426', async () => {
      const { listener } = await start('ws/127.0.0.1:0');
      const status = await within(
        new Promise<number | undefined>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port: listener.address.port, path: '/' }, (res) => {
            res.resume();
            resolve(res.statusCode);
          });
          req.on('error', reject);
          req.end();
        }),
        'the HTTP answer',
      );
      expect(status).toBe(426);
    });
  });

  describe('tls.requestCert', () => {
    it('takes a client with a certificate signed by ca and refuses one without', async () => {
      const { listener, inbox } = await start('tls/127.0.0.1:0', {
        tls: { cert, key, ca: cert, requestCert: true },
      });
      await client(listener, { tls: { ca: cert, cert, key } });
      expect((await inbox.nth(0)).peer).toMatchObject({ transport: 'tls', secure: true });

      // TLS 1.3: the client may finish its side before the server checks; either way it ends.
      const refused = await connectLink(listener.address, { tls: { ca: cert } }).then(
        (link) => {
          clients.push(link);
          link.on('data', () => {});
          return closeOf(link).then(() => 'closed');
        },
        () => 'rejected',
      );
      expect(['closed', 'rejected']).toContain(refused);
      expect(inbox.links).toHaveLength(1);
    });
  });

  describe('#close', () => {
    it('stops accepting, destroys open links and is idempotent', async () => {
      const { listener, inbox } = await start('wss/127.0.0.1:0/logs', { tls: { cert, key } });
      const link = await client(listener);
      link.on('data', () => {});
      await inbox.nth(0);
      const closed = closeOf(link);
      const first = listener.close();
      const second = listener.close();
      await Promise.all([first, second]);
      expect(listener.connections).toBe(0);
      await closed;
      const err = await connectLink(listener.address, { tls: { ca: cert } }).then(
        () => undefined,
        (e: LogwireError) => e,
      );
      expect(err?.code).toBe('LW_ERR_CONNECT');
    });
  });
});
