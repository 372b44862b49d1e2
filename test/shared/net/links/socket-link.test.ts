import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../../../shared/net/clock.js';
import { peerOf } from '../../../../shared/net/links/peer-of.js';
import { SocketLink, WRITE_HIGH_WATER } from '../../../../shared/net/links/socket-link.js';
import { closeOf, until, within } from '../../../helpers/net-fixtures.js';

/** A pair of connected TCP sockets on loopback: ours (client) and the server's end. */
describe('SocketLink', () => {
  let server: Server;
  let port: number;
  const accepted: Socket[] = [];
  const waiters: ((s: Socket) => void)[] = [];
  const open: Socket[] = [];

  beforeAll(async () => {
    server = createServer((s) => {
      s.on('error', () => {});
      accepted.push(s);
      waiters.shift()?.(s);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterEach(() => {
    for (const s of [...open.splice(0), ...accepted.splice(0)]) s.destroy();
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  async function pair(clock = new ManualClock()): Promise<{ link: SocketLink; socket: Socket; far: Socket }> {
    const far = within(new Promise<Socket>((resolve) => waiters.push(resolve)), 'accept');
    const socket = connect(port, '127.0.0.1');
    open.push(socket);
    await within(new Promise((resolve) => socket.once('connect', resolve)), 'connect');
    const link = new SocketLink(socket, peerOf(socket, 'tcp'), { clock, closeGrace: 1000 });
    return { link, socket, far: await far };
  }

  it('knows its peer', async () => {
    const { link } = await pair();
    expect(link.peer).toEqual({ transport: 'tcp', remote: `127.0.0.1:${port}`, local: true, secure: false });
    expect(link.framing).toBe('stream');
  });

  describe('#write', () => {
    it('says room until WRITE_HIGH_WATER bytes wait in the socket, then drains when they left', async () => {
      const { link, socket, far } = await pair();
      far.pause();
      const piece = Buffer.alloc(64 * 1024, 0x61);
      let writesWithRoom = 0;
      // The socket's own mark is 16 KiB: a link saying room past it lets a sender queue more.
      while (link.write([piece])) writesWithRoom += 1;
      expect(writesWithRoom).toBeGreaterThan(1);
      expect(socket.writableLength).toBeGreaterThanOrEqual(WRITE_HIGH_WATER);
      expect(socket.writableLength).toBeLessThan(WRITE_HIGH_WATER + 2 * piece.length + 1);
      const drained = new Promise<void>((resolve) => link.once('drain', () => resolve()));
      far.resume();
      await within(drained, 'drain');
    });

    it('hands line and body to the socket as one writev', async () => {
      const { link, socket, far } = await pair();
      const writev = vi.spyOn(socket as unknown as { _writev: (...args: unknown[]) => void }, '_writev');
      const got: Buffer[] = [];
      far.on('data', (d: Buffer) => got.push(d));
      link.write([Buffer.from('EVENTS bytes=3\n'), Buffer.from('{}\n')]);
      expect(writev).toHaveBeenCalledTimes(1);
      expect((writev.mock.calls[0]![0] as unknown[]).length).toBe(2);
      await until(() => Buffer.concat(got).length === 18, 'the bytes');
      expect(String(Buffer.concat(got))).toBe('EVENTS bytes=3\n{}\n');
    });

    it('skips empty parts and reports the socket buffer as pendingBytes', async () => {
      const { link, socket } = await pair();
      expect(link.write([Buffer.alloc(0)])).toBe(true);
      expect(link.pendingBytes).toBe(socket.writableLength);
    });
  });

  describe('reading', () => {
    it("keeps what arrives before anyone listens for 'data'", async () => {
      const { link, socket, far } = await pair();
      far.write('READY source=a\n');
      // Arrived and buffered in our paused socket, with nobody listening yet.
      await until(() => socket.readableLength > 0, 'the bytes to arrive');
      const got: Buffer[] = [];
      link.on('data', (d) => got.push(d));
      await until(() => got.length > 0, 'the early bytes');
      expect(String(Buffer.concat(got))).toBe('READY source=a\n');
    });
  });

  describe('errors and closing', () => {
    it("turns a socket error into 'close' with that error", async () => {
      const { link, far } = await pair();
      link.on('data', () => {});
      const closed = closeOf(link);
      far.resetAndDestroy();
      const err = await closed;
      expect(err).toMatchObject({ code: 'ECONNRESET' });
      expect(link.closed).toBe(true);
    });

    it('destroys a close whose flush makes no progress for closeGrace ms', async () => {
      const clock = new ManualClock();
      const { link, far } = await pair(clock);
      far.pause(); // the peer reads nothing: our writes pile up
      const chunk = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < 32; i++) link.write([chunk]);
      expect(link.pendingBytes).toBeGreaterThan(0);
      const closed = closeOf(link);
      link.close();
      link.close();
      expect(link.closed).toBe(true);
      clock.advance(1000); // no byte left the queue meanwhile: cut
      expect(await closed).toBeUndefined();
    });

    it('destroy(error) closes with that error, once', async () => {
      const { link } = await pair();
      let closes = 0;
      link.on('close', () => closes++);
      const closed = closeOf(link);
      link.destroy(new Error('bad peer'));
      link.destroy(new Error('second'));
      link.close();
      expect((await closed)?.message).toBe('bad peer');
      expect(closes).toBe(1);
    });
  });
});
