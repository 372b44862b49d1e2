import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../shared/net/clock.js';
import type { Link } from '../../../shared/net/link.js';
import { type Listener, type ListenOptions, listen } from '../../../shared/net/listener.js';
import { parseAddress } from '../../../shared/protocol/address.js';
import { closeOf, LinkInbox, until } from '../../helpers/net-fixtures.js';

describe('UDP listener', () => {
  const listeners: Listener[] = [];
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await Promise.all(listeners.splice(0).map((l) => l.close()));
  });

  /** Each link's datagrams, in order, under its remote. */
  async function start(options: ListenOptions = {}) {
    const inbox = new LinkInbox();
    const received = new Map<Link, Buffer[]>();
    const listener = await listen(parseAddress('udp/127.0.0.1:0'), options, (link) => {
      const got: Buffer[] = [];
      received.set(link, got);
      link.on('data', (d) => got.push(d));
      inbox.onLink(link);
    });
    listeners.push(listener);
    return { listener, inbox, received };
  }

  async function sender(): Promise<Socket> {
    const socket = createSocket('udp4');
    sockets.push(socket);
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return socket;
  }

  function send(socket: Socket, listener: Listener, text: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      socket.send(text, listener.address.port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
  }

  it('makes one link per remote, and one data event per datagram', async () => {
    const { listener, inbox, received } = await start();
    const a = await sender();
    const b = await sender();
    await send(a, listener, 'ALIVE serial=1');
    await send(b, listener, 'ALIVE serial=2');
    await send(a, listener, 'ALIVE serial=3');
    const linkA = await inbox.nth(0);
    const linkB = await inbox.nth(1);
    await until(() => received.get(linkA)?.length === 2, 'two datagrams from a');
    expect(received.get(linkA)!.map(String)).toEqual(['ALIVE serial=1', 'ALIVE serial=3']);
    expect(received.get(linkB)!.map(String)).toEqual(['ALIVE serial=2']);
    expect(linkA.peer).toEqual({
      transport: 'udp',
      remote: `127.0.0.1:${a.address().port}`,
      local: true,
      secure: false,
    });
    expect(listener.connections).toBe(2);
  });

  it('ignores empty datagrams', async () => {
    const { listener, inbox, received } = await start();
    const a = await sender();
    await send(a, listener, Buffer.alloc(0));
    await send(a, listener, 'FIRST');
    const link = await inbox.nth(0);
    await until(() => received.get(link)?.length === 1, 'the first datagram');
    expect(received.get(link)!.map(String)).toEqual(['FIRST']);
    expect(inbox.links).toHaveLength(1);
  });

  it('never answers: write() on a server-side link sends nothing and returns true', async () => {
    const { listener, inbox, received } = await start();
    const a = await sender();
    const answers: Buffer[] = [];
    a.on('message', (m) => answers.push(m));
    await send(a, listener, 'STATUS');
    const link = await inbox.nth(0);
    expect(link.write([Buffer.from('OK command=STATUS\n')])).toBe(true);
    expect(link.pendingBytes).toBe(0);
    await send(a, listener, 'AFTER');
    await until(() => received.get(link)?.length === 2, 'the second datagram');
    expect(answers).toEqual([]);
  });

  it('forgets a remote idle for idleTimeout ms; its next datagram makes a new link', async () => {
    const clock = new ManualClock();
    const { listener, inbox } = await start({ idleTimeout: 1000, clock });
    const a = await sender();
    await send(a, listener, 'ONE');
    const first = await inbox.nth(0);
    const closed = closeOf(first);
    clock.advance(999);
    expect(first.closed).toBe(false);
    clock.advance(1);
    expect(await closed).toBeUndefined();
    expect(listener.connections).toBe(0);
    await send(a, listener, 'TWO');
    expect(await inbox.nth(1)).not.toBe(first);
  });

  it('tracks at most maxConnections remotes, forgetting the idlest first', async () => {
    const { listener, inbox, received } = await start({ maxConnections: 2 });
    const [a, b, c] = [await sender(), await sender(), await sender()];
    await send(a, listener, 'A1');
    await send(b, listener, 'B1');
    const linkA = await inbox.nth(0);
    await inbox.nth(1);
    await send(a, listener, 'A2'); // b is now the idlest
    await until(() => received.get(linkA)?.length === 2, 'A2');
    await send(c, listener, 'C1');
    await inbox.nth(2);
    expect(inbox.links[1]!.closed).toBe(true);
    expect(linkA.closed).toBe(false);
    expect(listener.connections).toBe(2);
  });

  it('closes every remote link on close, and closing twice is fine', async () => {
    const { listener, inbox } = await start();
    const a = await sender();
    await send(a, listener, 'ONE');
    const link = await inbox.nth(0);
    const closed = closeOf(link);
    await Promise.all([listener.close(), listener.close()]);
    await closed;
    expect(listener.connections).toBe(0);
  });
});
