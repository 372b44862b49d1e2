import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ConnectOptions, connectLink } from '../../../shared/net/connect.js';
import type { Link } from '../../../shared/net/link.js';
import { type Listener, type ListenOptions, listen } from '../../../shared/net/listener.js';
import { Messenger } from '../../../shared/net/messenger.js';
import { parseAddress } from '../../../shared/protocol/address.js';
import { type Message, message } from '../../../shared/protocol/message.js';
import type { Transport } from '../../../shared/protocol/peer.js';
import { testCert } from '../../helpers/certs.js';
import { LinkInbox, nextMessages, recordMessages, tempDir, within } from '../../helpers/net-fixtures.js';

const dir = tempDir();
const { cert, key } = testCert();

interface Case {
  readonly name: string;
  readonly listen: string;
  readonly transport: Transport;
  readonly listenOptions?: ListenOptions;
  readonly connectOptions?: ConnectOptions;
  readonly secure?: boolean;
  /** UDP: nothing ever goes back to the client. */
  readonly oneWay?: boolean;
}

const CASES: readonly Case[] = [
  { name: 'tcp on 127.0.0.1', listen: 'tcp/127.0.0.1:0', transport: 'tcp' },
  { name: 'tcp on ::1', listen: 'tcp/[::1]:0', transport: 'tcp' },
  { name: 'ndjson (tcp)', listen: 'ndjson/127.0.0.1:0', transport: 'ndjson' },
  {
    name: 'tls',
    listen: 'tls/127.0.0.1:0',
    transport: 'tls',
    listenOptions: { tls: { cert, key } },
    connectOptions: { tls: { ca: cert } },
    secure: true,
  },
  { name: 'unix', listen: `unix/${dir.path}/round-trip.sock`, transport: 'unix' },
  { name: 'ws', listen: 'ws/127.0.0.1:0/logs', transport: 'ws' },
  {
    name: 'wss on ::1',
    listen: 'wss/[::1]:0/logs',
    transport: 'wss',
    listenOptions: { tls: { cert, key } },
    connectOptions: { tls: { ca: cert } },
    secure: true,
  },
  { name: 'udp', listen: 'udp/127.0.0.1:0', transport: 'udp', oneWay: true },
];

const BIG = Buffer.alloc(256 * 1024, 0x61);
/** A datagram carries at most 64 KiB. */
const BIG_DATAGRAM = Buffer.alloc(8 * 1024, 0x62);

function batch(n: number, body: Buffer): Message {
  return message('EVENTS', { source: 'src', first: n, count: 1 }, body);
}

function expectSame(got: readonly Message[], sent: readonly Message[]): void {
  expect(got.map((m) => m.command)).toEqual(sent.map((m) => m.command));
  const withoutBytes = (m: Message) =>
    Object.fromEntries(Object.entries(m.params).filter(([k]) => k !== 'bytes'));
  expect(got.map(withoutBytes)).toEqual(sent.map(withoutBytes));
  expect(got.map((m) => m.body?.toString('hex'))).toEqual(sent.map((m) => m.body?.toString('hex')));
}

describe('transports: a round trip through two Messengers', () => {
  const open: { listener?: Listener; links: Link[] }[] = [];

  afterEach(async () => {
    for (const { listener, links } of open.splice(0)) {
      for (const link of links) link.destroy();
      await listener?.close();
    }
  });

  afterAll(() => dir.remove());

  for (const c of CASES) {
    it(`${c.name}: messages with bodies ${c.oneWay ? 'one way' : 'both ways'}`, async () => {
      const inbox = new LinkInbox();
      const serverSide: { messenger: Messenger; log: ReturnType<typeof recordMessages> }[] = [];
      const entry: { listener?: Listener; links: Link[] } = { links: [] };
      open.push(entry);
      const listener = await listen(parseAddress(c.listen), c.listenOptions ?? {}, (link) => {
        entry.links.push(link);
        const messenger = new Messenger(link, { replies: !c.oneWay });
        serverSide.push({ messenger, log: recordMessages(messenger) });
        inbox.onLink(link);
      });
      entry.listener = listener;
      if (c.transport !== 'unix') expect(listener.address.port).toBeGreaterThan(0);

      const clientLink = await connectLink(listener.address, c.connectOptions ?? {});
      entry.links.push(clientLink);
      const client = new Messenger(clientLink);
      expect(client.peer.transport).toBe(c.transport);
      expect(client.peer.secure).toBe(c.secure === true);

      const toServer = [
        message('REGISTER', { source: 'src', service: 'app' }),
        batch(1, Buffer.from('{"msg":"one"}\n')),
        batch(2, c.oneWay ? BIG_DATAGRAM : BIG),
        batch(3, Buffer.from('{"msg":"three"}\n')),
      ];
      for (const msg of toServer) client.send(msg);
      await inbox.nth(0);
      const { messenger: server, log } = serverSide[0]!;
      expectSame(await log.count(toServer.length), toServer);
      expect(server.peer).toMatchObject({ transport: c.transport, local: true, secure: c.secure === true });
      expect(listener.connections).toBe(1);

      if (c.oneWay) {
        expect(server.send(message('OK', { command: 'X' }))).toBe(true); // accepted, never sent
        return;
      }
      const toClient = [message('READY', { source: 'src' }), message('ACK', { seq: 3 }, BIG)];
      const arrived = nextMessages(client, toClient.length);
      for (const msg of toClient) server.send(msg);
      expectSame(await arrived, toClient);

      // A clean close from the client reaches the server as a close without error.
      const serverClosed = within(new Promise((r) => server.once('close', r)), 'server close');
      client.close();
      client.close();
      expect(await serverClosed).toBeUndefined();
    });
  }
});
