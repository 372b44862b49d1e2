/**
 * The soak's plan and report: the fault sequence of a profile, free ports, the final table.
 */

import { createSocket } from 'node:dgram';
import net from 'node:net';

/**
 * The faults of a profile, interleaved so that each kind meets the others' aftermath: one of
 * each kind in turn while any is left. Faults never overlap (a kill inside a rotation window is
 * a documented gap, not what is measured here).
 */
export function schedule(profile) {
  const queues = [
    Array(profile.rotations).fill('create'),
    Array(profile.kills).fill('kill'),
    Array(profile.cuts).fill('cut'),
    ['hostile'],
    Array(profile.rotations).fill('copytruncate'),
    ['blackHole'],
    ['down'],
    ['pause'],
    ['full'],
  ];
  const order = [];
  while (queues.some((queue) => queue.length > 0)) {
    for (const queue of queues) if (queue.length > 0) order.push(queue.shift());
  }
  return order;
}

/** `count` distinct free ports, TCP and UDP both free on each (bound, noted, released). */
export async function freePorts(count) {
  const ports = new Set();
  while (ports.size < count) {
    const server = net.createServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address();
    await new Promise((resolve) => server.close(resolve));
    const udp = createSocket('udp4');
    const udpFree = await new Promise((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    udp.close();
    if (udpFree) ports.add(port);
  }
  return [...ports];
}

const COLUMNS = [
  ['source', 8],
  ['mode', 10],
  ['sent', 8],
  ['acked', 8],
  ['in files', 9],
  ['lost', 6],
  ['duplicated', 10],
  ['dropped by policy', 17],
  ['copytruncate', 12],
];

export function printTable(rows, sources) {
  const mode = new Map(sources.map((s) => [s.src, s.mode]));
  const line = (cells) => cells.map((cell, i) => String(cell).padStart(COLUMNS[i][1])).join('  ');
  console.log(`\n${line(COLUMNS.map(([name]) => name))}`);
  for (const row of rows) {
    const lost = row.acknowledgedCheck ? row.lost : `(${row.lost})`;
    console.log(
      line([
        row.src,
        mode.get(row.src),
        row.sent,
        row.acked,
        row.inFiles,
        lost,
        row.duplicated,
        row.droppedByPolicy,
        row.copytruncate,
      ]),
    );
  }
  console.log(
    '\nacked: the appender\'s own count where the app holds the stream (threaded, in process); "—" under pino.transport.\n' +
      '(lost) in parentheses: udp is unacknowledged, outside the no-loss check.',
  );
}
