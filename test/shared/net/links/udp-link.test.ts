import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { connectLink } from '../../../../shared/net/connect.js';
import type { Link } from '../../../../shared/net/link.js';
import type { UdpLink } from '../../../../shared/net/links/udp-link.js';
import { parseAddress } from '../../../../shared/protocol/address.js';
import { closeOf, until } from '../../../helpers/net-fixtures.js';

describe('UdpLink', () => {
  const sockets: Socket[] = [];
  const links: Link[] = [];

  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
    for (const l of links.splice(0)) l.destroy();
  });

  /** A plain dgram socket that records every datagram, empty ones included. */
  async function receiver(): Promise<{ port: number; got: Buffer[] }> {
    const socket = createSocket('udp4');
    sockets.push(socket);
    const got: Buffer[] = [];
    socket.on('message', (m) => got.push(m));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return { port: socket.address().port, got };
  }

  async function client(port: number): Promise<Link> {
    const link = await connectLink(parseAddress(`udp/127.0.0.1:${port}`));
    links.push(link);
    return link;
  }

  describe('#write', () => {
    it('emits drain on a later turn of the event loop, so a writer cannot starve it', async () => {
      const { port } = await receiver();
      const link = await client(port);
      let writes = 0;
      while (link.write([Buffer.alloc(8000)])) writes += 1;
      expect(writes).toBeLessThan(10_000);
      let turned = false;
      setImmediate(() => {
        turned = true;
      });
      await new Promise<void>((resolve) => link.once('drain', resolve));
      expect(turned).toBe(true);
    });

    it('never sends a zero-length datagram', async () => {
      const { port, got } = await receiver();
      const link = await client(port);
      expect(link.write([])).toBe(true);
      expect(link.write([Buffer.alloc(0)])).toBe(true);
      expect(link.write([Buffer.alloc(0), Buffer.alloc(0)])).toBe(true);
      link.write([Buffer.from('ALIVE serial=1')]);
      link.write([Buffer.alloc(0)]);
      link.write([Buffer.from('END')]);
      await until(() => got.length >= 2, 'two datagrams');
      expect(got.map(String)).toEqual(['ALIVE serial=1', 'END']);
    });

    it('sends the parts as one datagram', async () => {
      const { port, got } = await receiver();
      const link = await client(port);
      link.write([Buffer.from('EVENTS bytes=3\n'), Buffer.from('{}\n')]);
      await until(() => got.length === 1, 'the datagram');
      expect(String(got[0])).toBe('EVENTS bytes=3\n{}\n');
    });

    it('goes on after a datagram to a closed port is refused', async () => {
      const { port } = await receiver();
      sockets.pop()!.close(); // nobody listens on `port` any more
      const link = (await client(port)) as UdpLink;
      let i = 0;
      await until(() => {
        link.write([Buffer.from(`ALIVE serial=${i++}`)]);
        return link.refused + link.droppedDatagrams > 0;
      }, 'the refusal');
      expect(link.closed).toBe(false);
      expect(link.write([Buffer.from('ALIVE serial=last')])).toBe(true);
    });
  });

  describe('receiving', () => {
    it('ignores empty datagrams from the peer', async () => {
      const server = createSocket('udp4');
      sockets.push(server);
      await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
      const link = await client(server.address().port);
      const got: Buffer[] = [];
      link.on('data', (d) => got.push(d));
      // Learn the client's port from its first datagram, then answer it (a test peer may; ours never does).
      const from = await new Promise<number>((resolve) => {
        server.once('message', (_m, rinfo) => resolve(rinfo.port));
        link.write([Buffer.from('HELLO')]);
      });
      server.send(Buffer.alloc(0), from, '127.0.0.1');
      server.send('READY', from, '127.0.0.1');
      await until(() => got.length === 1, 'the datagram');
      expect(got.map(String)).toEqual(['READY']);
    });
  });

  describe('#close', () => {
    it('is idempotent and emits one close', async () => {
      const { port } = await receiver();
      const link = await client(port);
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
