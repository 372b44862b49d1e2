/**
 * Hostile inputs for every listener: random bytes, over-long lines, bad EVENTS (wrong counts,
 * lengths that lie, EVENTS before REGISTER, a REGISTER with a bad name). Each input is one
 * connection (or one datagram) that sends its bytes and closes. The collector must take them
 * without crashing and without a byte of them reaching another source's file.
 */

import { createSocket } from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';

/** How long a hostile connection waits for the collector to close it before closing itself. */
const HOLD_MS = 300;

function randomBytes(random, length) {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** The payloads, by kind; `i` picks one deterministically. */
function payload(random, i) {
  switch (i % 6) {
    case 0:
      return randomBytes(random, 1 + Math.floor(random() * 4096));
    case 1:
      return Buffer.from(`${'x'.repeat(100_000 + Math.floor(random() * 100_000))}\n`);
    case 2:
      return Buffer.from('EVENTS seq=1;count=1;bytes=5\n{"a":1}\n');
    case 3:
      return Buffer.from(
        'REGISTER version=1;source=hostile-1;service=hostile;host=h;next=1\n' +
          'EVENTS seq=1;count=3;bytes=8\n{"a":1}\n' +
          'EVENTS seq=-4;count=1;bytes=99999999999\n',
      );
    case 4:
      return Buffer.from('REGISTER version=1;source=;service=_bad;host=h;next=x\n');
    default:
      return Buffer.concat([
        Buffer.from(
          'REGISTER version=1;source=hostile-2;service=hostile;host=h;next=1\nEVENTS seq=1;count=1;bytes=40\n',
        ),
        randomBytes(random, 40),
      ]);
  }
}

/** Sends `bytes` over one stream connection, then ends it; resolves once closed or after HOLD_MS. */
function sendStream(connect, bytes) {
  return new Promise((resolve) => {
    const socket = connect();
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, HOLD_MS);
    socket.on('error', done);
    socket.once('close', done);
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => socket.end(bytes));
  });
}

function sendWs(url, bytes, asText) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'logwire.v1');
    const done = () => {
      clearTimeout(timer);
      ws.terminate();
      resolve();
    };
    const timer = setTimeout(done, HOLD_MS);
    ws.on('error', done);
    ws.once('close', done);
    ws.once('open', () => ws.send(asText ? bytes.toString('latin1') : bytes, () => ws.close()));
  });
}

/**
 * Sends `count` hostile inputs spread over the listeners, `parallel` at a time.
 * targets: { tcp: port, unix: path, ws: url, tls: port, udp: port, ndjson: port }.
 */
export async function hostile(targets, count, random, parallel = 16) {
  const kinds = Object.keys(targets);
  const udp = createSocket('udp4');
  const sent = Object.fromEntries(kinds.map((k) => [k, 0]));
  let next = 0;
  async function one(i) {
    const kind = kinds[i % kinds.length];
    const bytes = payload(random, Math.floor(i / kinds.length));
    sent[kind] += 1;
    if (kind === 'udp') {
      await new Promise((resolve) =>
        udp.send(bytes.subarray(0, 60_000), targets.udp, '127.0.0.1', () => resolve()),
      );
    } else if (kind === 'ws') await sendWs(targets.ws, bytes, i % 2 === 0);
    else if (kind === 'tls')
      await sendStream(
        () => tls.connect({ port: targets.tls, host: '127.0.0.1', rejectUnauthorized: false }),
        bytes,
      );
    else if (kind === 'unix') await sendStream(() => net.connect({ path: targets.unix }), bytes);
    else await sendStream(() => net.connect({ port: targets[kind], host: '127.0.0.1' }), bytes);
  }
  async function worker() {
    while (next < count) await one(next++);
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  udp.close();
  return sent;
}
