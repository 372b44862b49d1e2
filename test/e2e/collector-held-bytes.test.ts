/**
 * Memory bounded across connections (docs/collector.md, Backpressure): 40 peers each send all
 * but the last bytes of a 16 MiB body. The bytes held for those unfinished messages count
 * against pause_above, so the real collector stops reading from them instead of holding
 * 640 MiB; once they close or finish, everyone is served again.
 */

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { message } from '../../shared/protocol/message.js';
import { type CollectorProcess, killAllCollectors, startCollector } from '../helpers/collector-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventsMessage, eventually } from '../helpers/records.js';

const PEERS = 40;
const BODY = 16 * 1024 * 1024;
/** The body is one record `{"m":"xxx…"}` + LF; every peer withholds `"}` + LF. */
const PREFIX = Buffer.from('{"m":"');
const SUFFIX = Buffer.from('"}\n');
const FILLER = Buffer.alloc(1024 * 1024, 0x78);

let dir: string;
let collector: CollectorProcess;
const clients: RawClient[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-held-'));
  // Defaults: max_body 16 MiB, pause_above 64 MiB, max_connections 1024.
  collector = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', join(dir, 'logs')], {
    cwd: dir,
    listeners: 1,
  });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

async function client(): Promise<RawClient> {
  const c = await RawClient.connect({ port: collector.port('tcp') });
  clients.push(c);
  return c;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function status(): Promise<Record<string, string>> {
  const c = await client();
  c.send(message('STATUS'));
  const reply = await c.next((m) => m.command === 'OK' && m.params.command === 'STATUS');
  c.close();
  return reply.params;
}

/** Writes `bytes` of filler, waiting for 'drain'; resolves once the last byte left for the kernel. */
async function writeFiller(c: RawClient, bytes: number): Promise<void> {
  const socket = c.socket;
  for (let left = bytes; left > 0 && !socket.destroyed; ) {
    const piece = FILLER.subarray(0, Math.min(left, FILLER.length));
    left -= piece.length;
    const flushed = new Promise<void>((resolve) => socket.write(piece, () => resolve()));
    if (left === 0) await flushed;
    else if (socket.writableNeedDrain) {
      await new Promise<void>((resolve) => {
        socket.once('drain', resolve);
        socket.once('close', resolve);
      });
    }
  }
}

it('stays under 400 MB with 40 peers each holding 16 MiB minus a few bytes, then serves everyone', async () => {
  const peers: RawClient[] = [];
  for (let i = 0; i < PEERS; i++) {
    const c = await client();
    c.send(message('REGISTER', { version: 1, source: `held-${i}`, service: 'held', host: 'h', next: 1 }));
    await c.next((m) => m.command === 'READY');
    peers.push(c);
  }
  let flushed = 0;
  for (const c of peers) {
    c.write(Buffer.from(`EVENTS seq=1;count=1;bytes=${BODY}\n`));
    c.write(PREFIX);
    void writeFiller(c, BODY - PREFIX.length - SUFFIX.length).then(() => {
      flushed += 1;
    });
  }
  // Each peer has either sent all it will send, or is no longer read by the collector.
  const held = await eventually(async () => {
    const s = await status();
    const stopped = Number(s.held_links ?? 0);
    if (flushed + stopped < PEERS) throw new Error(`${flushed} flushed, ${stopped} not read`);
    return s;
  }, 120_000);
  const rss = rssMiB(collector.child.pid!);
  expect(rss).toBeLessThan(400);
  expect(Number(held.held_links)).toBe(PEERS - 1);
  expect(Number(held.held_bytes)).toBeGreaterThan(64 * 1024 * 1024);

  // Two peers finish their batch; the others go away.
  const finishing = peers.slice(0, 2);
  for (const c of peers.slice(2)) c.close();
  for (const c of finishing) c.write(SUFFIX);
  for (const c of finishing) await c.next((m) => m.command === 'ACK' && m.params.seq === '1', 60_000);

  const fresh = await client();
  fresh.send(message('REGISTER', { version: 1, source: 'after', service: 'held', host: 'h', next: 1 }));
  await fresh.next((m) => m.command === 'READY');
  fresh.send(eventsMessage(1, 5));
  await fresh.next((m) => m.command === 'ACK' && m.params.seq === '5');
  const after = await status();
  expect(after).toMatchObject({ held_bytes: '0', held_links: '0' });
}, 180_000);
