/**
 * Connection slots (PROTOCOL.md §4): a stream connection that neither registers nor sends a
 * control command within register_timeout is closed, whether it is silent or trickles bytes;
 * a registered session is not; and STATUS is still answered when every data slot is taken.
 */

import { describe, expect, it } from 'vitest';
import { DataSlots } from '../../../collector/intake/data-slots.js';
import { message } from '../../../shared/protocol/message.js';
import { inProcessCollector } from '../../helpers/in-process-collector.js';
import type { RawClient } from '../../helpers/raw-client.js';
import { eventsMessage } from '../../helpers/records.js';

const lab = inProcessCollector('lw-slots-');

function register(c: RawClient, source: string): void {
  c.send(message('REGISTER', { version: 1, source, service: 'svc', host: 'h', next: 1 }));
}

async function status(port: number): Promise<Record<string, string>> {
  const c = await lab.client(port);
  c.send(message('STATUS'));
  return (await c.next((m) => m.command === 'OK' && m.params.command === 'STATUS')).params;
}

describe('register_timeout', () => {
  it('closes a silent connection, and leaves a registered session open', async () => {
    const [port] = await lab.start({ registerTimeout: 300 });
    const registered = await lab.client(port!);
    register(registered, 'kept');
    await registered.next((m) => m.command === 'READY');
    const idle = await lab.client(port!);
    await idle.closedByPeer(5000);
    expect(idle.received).toEqual([]);
    // The registered session opened first, so its deadline would have passed already.
    registered.send(eventsMessage(1, 3));
    await registered.next((m) => m.command === 'ACK' && m.params.seq === '3');
    expect(registered.closed).toBe(false);
    expect((await status(port!)).register_timeouts).toBe('1');
  });

  it('closes a peer that trickles a line a byte at a time', async () => {
    const [port] = await lab.start({ registerTimeout: 300 });
    const trickler = await lab.client(port!);
    const line = 'REGISTER version=1;source=slow;service=svc;host=h;next=1\n';
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < line.length) trickler.write(line[sent++]!);
    }, 20);
    try {
      await trickler.closedByPeer(5000);
    } finally {
      clearInterval(timer);
    }
    expect(sent).toBeLessThan(line.length);
    expect(trickler.received.map((m) => m.command)).not.toContain('READY');
  });

  it('gives a connection that sends control commands another register_timeout for each', async () => {
    const [port] = await lab.start({ registerTimeout: 300 });
    const control = await lab.client(port!);
    control.send(message('STATUS'));
    await control.next((m) => m.command === 'OK');
    await control.closedByPeer(5000);
    expect((await status(port!)).register_timeouts).toBe('1');
  });
});

describe('data slots (max_connections)', () => {
  it('answers STATUS when every data slot is taken, refuses one more REGISTER, frees the slot on close', async () => {
    const [port] = await lab.start({ maxConnections: 2 });
    const sessions: RawClient[] = [];
    for (const source of ['a', 'b']) {
      const c = await lab.client(port!);
      register(c, source);
      await c.next((m) => m.command === 'READY');
      sessions.push(c);
    }
    const extra = await lab.client(port!);
    register(extra, 'c');
    const refused = await extra.next((m) => m.command === 'INVALID');
    expect(refused.params).toMatchObject({ command: 'REGISTER', reason: 'too_many_connections' });
    await extra.closedByPeer();

    expect((await status(port!)).state).toBe('running');

    sessions[0]!.close();
    const later = await lab.client(port!);
    register(later, 'c');
    await later.next((m) => m.command === 'READY');
  });
});

describe('DataSlots', () => {
  it('counts taken slots and gives each back once', () => {
    const slots = new DataSlots(2);
    const first = slots.take()!;
    const second = slots.take()!;
    expect(slots.take()).toBeUndefined();
    first();
    first();
    expect(slots.taken).toBe(1);
    expect(slots.take()).toBeDefined();
    second();
    expect(slots.taken).toBe(1);
  });
});
