import { afterEach, describe, expect, it } from 'vitest';
import { parseAddressList } from '../../../shared/protocol/address.js';
import { formatLine } from '../../../shared/protocol/line.js';
import { message } from '../../../shared/protocol/message.js';
import type { Fallback } from '../../../shared/sender/fallback.js';
import { RecordQueue } from '../../../shared/sender/record-queue.js';
import { UDP_LINE_ROOM, UdpSender, udpBodyRoom } from '../../../shared/sender/udp-sender.js';
import { FakeUdpCollector, until } from '../../helpers/fake-collector.js';

const line = (i: number, pad = 0): string => `${JSON.stringify({ i, pad: 'p'.repeat(pad) })}\n`;

describe('UdpSender', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('leaves room for the longest EVENTS line there can be', () => {
    const longest = message(
      'EVENTS',
      {
        seq: Number.MAX_SAFE_INTEGER,
        count: Number.MAX_SAFE_INTEGER,
        source: 's'.repeat(64),
        service: 'v'.repeat(64),
        host: 'h'.repeat(64),
      },
      Buffer.alloc(1),
    );
    // bytes= has at most 16 digits too; the body here has 1.
    expect(Buffer.byteLength(formatLine(longest)) + 15).toBe(UDP_LINE_ROOM);
    expect(udpBodyRoom(8192)).toBe(8192 - UDP_LINE_ROOM);
  });

  it('numbers datagrams without gaps, each within maxDatagram, and drops a lone giant', async () => {
    const udp = await FakeUdpCollector.start();
    cleanup.push(() => udp.close());
    const queue = new RecordQueue({ maxBytes: 1 << 20, overflow: 'drop-oldest' });
    const dropped: string[] = [];
    const fallback: Fallback = { write: (b) => dropped.push(b.toString()), failedBytes: 0, close: () => {} };
    const sender = new UdpSender({
      addresses: parseAddressList(udp.address),
      queue,
      source: 'src-1',
      host: 'h',
      maxDatagram: 600,
      fallback,
    });
    cleanup.push(() => sender.stop());
    // A batch cut for bigger datagrams: the sender cuts it finer before numbering.
    let text = '';
    for (let i = 0; i < 30; i++) text += line(i, 10);
    queue.push(Buffer.from(text), 30);
    queue.push(Buffer.from(line(-1, 700)), 1);
    queue.push(Buffer.from(line(30) + line(31)), 2);
    sender.start('svc');
    await udp.waitFor(() => udp.lines.length === 32);
    expect(udp.lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(
      Array.from({ length: 32 }, (_, i) => i),
    );
    let next = 1;
    for (const { size, msg } of udp.datagrams) {
      expect(size).toBeLessThanOrEqual(600);
      expect(Number(msg.params.seq)).toBe(next);
      next += Number(msg.params.count);
      expect(msg.params).toMatchObject({ source: 'src-1', service: 'svc', host: 'h' });
    }
    expect(sender.counters).toEqual({ sent: 32, dropped: 1 });
    expect(dropped).toEqual([line(-1, 700)]);
    expect(udp.empty).toBe(0);
  });

  it('keeps batches in the queue until the socket is up', async () => {
    const udp = await FakeUdpCollector.start();
    cleanup.push(() => udp.close());
    const queue = new RecordQueue({ maxBytes: 1 << 20, overflow: 'drop-oldest' });
    const fallback: Fallback = { write: () => {}, failedBytes: 0, close: () => {} };
    const sender = new UdpSender({
      addresses: parseAddressList(udp.address),
      queue,
      source: 's',
      host: 'h',
      maxDatagram: 8192,
      fallback,
    });
    cleanup.push(() => sender.stop());
    queue.push(Buffer.from(line(0)), 1);
    sender.wake();
    expect(queue.records).toBe(1);
    sender.start('svc');
    await until(() => queue.records === 0 && udp.lines.length === 1, [udp, sender], 'the datagram');
  });
});
