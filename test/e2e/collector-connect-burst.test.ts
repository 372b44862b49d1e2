/**
 * A burst of connections while the collector's event loop is busy (here: the process stopped
 * with SIGSTOP, the extreme of busy): the kernel queues them until the collector accepts,
 * up to the listener's backlog. With Node's default of 511, the 512th and later clients' SYNs
 * were dropped and each waited a whole SYN retransmission (1 s, then 3 s, ...) before it
 * was even seen: a thousand sources reconnecting at once after a restart stalled that way.
 * The listener queues as many as max_connections (capped by the kernel's somaxconn).
 */

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CollectorProcess, killAllCollectors, startCollector } from '../helpers/collector-process.js';
import { eventually } from '../helpers/records.js';

/** More than Node's default backlog (511), fewer than the default max_connections (1024). */
const BURST = 700;
const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));

let dir: string;
let collector: CollectorProcess;
const sockets: Socket[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-burst-'));
  collector = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', join(dir, 'logs')], {
    cwd: dir,
    listeners: 1,
  });
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  collector.child.kill('SIGCONT');
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

describe('a burst of connections', () => {
  it.skipIf(somaxconn < BURST)(
    `queues ${BURST} connections made while the collector cannot accept`,
    async () => {
      const port = collector.port('tcp');
      collector.child.kill('SIGSTOP');
      let connected = 0;
      for (let i = 0; i < BURST; i++) {
        const socket = connect({ port, host: '127.0.0.1' });
        socket.on('error', () => undefined);
        socket.once('connect', () => {
          connected += 1;
        });
        sockets.push(socket);
      }
      // Dropped SYNs are retried after 1 s and 3 s: a queue too short shows within 5 s.
      await eventually(() => expect(connected).toBe(BURST), 5_000).catch(() => undefined);
      expect(connected).toBe(BURST);
      collector.child.kill('SIGCONT');
      // Once running again, the collector accepts and serves every one of them.
      let answered = 0;
      for (const socket of sockets) {
        socket.once('data', () => {
          answered += 1;
        });
        socket.write('STATUS\n');
      }
      await eventually(() => expect(answered).toBe(BURST), 20_000);
    },
    40_000,
  );
});
