import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { connectLink } from '../../../../shared/net/connect.js';
import type { Link } from '../../../../shared/net/link.js';
import { WS_SUBPROTOCOL } from '../../../../shared/net/links/ws-link.js';
import { parseAddress } from '../../../../shared/protocol/address.js';
import { closeOf, until, within } from '../../../helpers/net-fixtures.js';

/** A plain `ws` server as the peer, so the test controls text frames and close codes. */
describe('WsLink', () => {
  let http: Server;
  let wss: WebSocketServer;
  let port: number;
  const peers: { ws: WebSocket; got: { data: Buffer; binary: boolean }[]; protocol: string }[] = [];
  const waiters: (() => void)[] = [];
  const links: Link[] = [];

  beforeAll(async () => {
    http = createServer();
    wss = new WebSocketServer({ server: http });
    wss.on('connection', (ws) => {
      const peer = { ws, got: [] as { data: Buffer; binary: boolean }[], protocol: ws.protocol };
      ws.on('message', (data, binary) => peer.got.push({ data: data as Buffer, binary }));
      peers.push(peer);
      waiters.shift()?.();
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    port = (http.address() as { port: number }).port;
  });

  afterEach(() => {
    for (const l of links.splice(0)) l.destroy();
    for (const p of peers.splice(0)) p.ws.terminate();
  });

  afterAll(async () => {
    wss.close();
    await new Promise((resolve) => http.close(resolve));
  });

  async function pair() {
    const arrived = within(new Promise<void>((resolve) => waiters.push(resolve)), 'the server side');
    const link = await connectLink(parseAddress(`ws/127.0.0.1:${port}/logs`));
    links.push(link);
    await arrived;
    return { link, peer: peers[peers.length - 1]! };
  }

  it(`speaks the ${WS_SUBPROTOCOL} subprotocol, with message framing`, async () => {
    const { link, peer } = await pair();
    expect(peer.protocol).toBe(WS_SUBPROTOCOL);
    expect(link.framing).toBe('message');
    expect(link.peer).toMatchObject({ transport: 'ws', local: true, secure: false });
  });

  describe('#write', () => {
    it('sends the parts as one binary message and never an empty one', async () => {
      const { link, peer } = await pair();
      expect(link.write([])).toBe(true);
      expect(link.write([Buffer.alloc(0), Buffer.alloc(0)])).toBe(true);
      link.write([Buffer.from('EVENTS bytes=3\n'), Buffer.from('{}\n')]);
      link.write([Buffer.alloc(0)]);
      link.write([Buffer.from('END')]);
      await until(() => peer.got.length >= 2, 'two messages');
      expect(peer.got.map((m) => [String(m.data), m.binary])).toEqual([
        ['EVENTS bytes=3\n{}\n', true],
        ['END', true],
      ]);
    });
  });

  describe('reading', () => {
    it('gives a text message as its bytes, one data event per message', async () => {
      const { link, peer } = await pair();
      const got: Buffer[] = [];
      link.on('data', (d) => got.push(d));
      peer.ws.send('READY source=a');
      peer.ws.send(Buffer.from('ACK seq=1'));
      await until(() => got.length === 2, 'two messages');
      expect(got.every((d) => Buffer.isBuffer(d))).toBe(true);
      expect(got.map(String)).toEqual(['READY source=a', 'ACK seq=1']);
    });
  });

  describe('closing', () => {
    it('a normal close by the peer is a close without error', async () => {
      const { link, peer } = await pair();
      link.on('data', () => {}); // a paused link reads nothing, close frames included
      const closed = closeOf(link);
      peer.ws.close(1000);
      expect(await closed).toBeUndefined();
    });

    it('an abnormal close code becomes the close error', async () => {
      const { link, peer } = await pair();
      link.on('data', () => {});
      const closed = closeOf(link);
      peer.ws.close(1011, 'server error');
      expect((await closed)?.message).toBe('WebSocket closed with code 1011: server error');
    });

    it('close() is a closing handshake, idempotent, with one close event', async () => {
      const { link } = await pair();
      let closes = 0;
      link.on('close', () => closes++);
      const closed = closeOf(link);
      link.close();
      link.close();
      link.destroy();
      expect(await closed).toBeUndefined();
      expect(closes).toBe(1);
      expect(link.write([Buffer.from('LATE')])).toBe(false);
    });
  });
});
