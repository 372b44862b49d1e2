/**
 * The held budget in the running collector (in-process): an ndjson line with no end and a
 * stream line with no LF count as held bytes, the links holding the most stop being read past
 * pause_above, and they are read again once the others go away.
 */

import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { expect, it } from 'vitest';
import { inProcessCollector } from '../../helpers/in-process-collector.js';
import { eventually } from '../../helpers/records.js';

const lab = inProcessCollector('lw-held-bytes-');
const sockets: Socket[] = [];

async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  sockets.push(socket);
  await once(socket, 'connect');
  return socket;
}

it('stops reading ndjson lines without an end past pause_above, and reads again once they go', async () => {
  const [port] = await lab.start({ pauseAbove: 100_000 }, undefined, ['ndjson/127.0.0.1:0']);
  const open3 = [await open(port!), await open(port!), await open(port!)];
  for (const [i, socket] of open3.entries())
    socket.write(`{"n":${i},"pad":"${'x'.repeat(40_000 + i * 1000)}`);
  await eventually(() => {
    const status = lab.collector.status();
    expect(status.held_links).toBe(2);
    expect(Number(status.held_bytes)).toBeGreaterThan(100_000);
  });
  // The smallest holder (the first) still reads; the two larger ones do not.
  open3[2]!.destroy();
  open3[1]!.destroy();
  await eventually(() => expect(lab.collector.status()).toMatchObject({ held_links: 0 }));
  open3[0]!.write('"}\n');
  await eventually(() => expect(lab.collector.status()).toMatchObject({ held_bytes: 0, written: 1 }));
  for (const socket of sockets.splice(0)) socket.destroy();
});

it('counts a protocol line still missing its LF', async () => {
  const [port] = await lab.start({ pauseAbove: 1_000_000 });
  const socket = await open(port!);
  socket.write('REGISTER version=1;source=slow;service=svc;host=h');
  await eventually(() => expect(lab.collector.status().held_bytes).toBe(49));
  socket.destroy();
  await eventually(() => expect(lab.collector.status().held_bytes).toBe(0));
  sockets.splice(0);
});
