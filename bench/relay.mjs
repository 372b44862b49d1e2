/**
 * The relay's throughput as a ratio of direct shipping: the same records, from one client
 * session, either straight to a collector B or through a relay A (`--forward B`), timed until
 * B's file holds every byte. Rounds alternate (direct, relay, direct, …) so a noisy machine hurts
 * both alike; medians are reported. Every collector is a child process on loopback with fresh
 * directories; start-up is not timed.
 *
 *   npm run build && node bench/relay.mjs
 *   LOGWIRE_BENCH_LINES=200000 LOGWIRE_BENCH_RUNS=2 node bench/relay.mjs   (a quick check)
 *
 * Env: LOGWIRE_BENCH_LINES (500,000), LOGWIRE_BENCH_RUNS (3 of each).
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST } from './measure.mjs';

const LINES = Number(process.env.LOGWIRE_BENCH_LINES ?? 500_000);
const RUNS = Number(process.env.LOGWIRE_BENCH_RUNS ?? 3);
const BATCH = 1000;
const WINDOW = 4 * 1024 * 1024;
const TIMEOUT_MS = 120_000;
const MAIN = fileURLToPath(new URL('collector/cli/main.js', DIST));

/** Batches of pino-like records, built once. */
const batches = [];
let totalBytes = 0;
for (let seq = 1; seq <= LINES; seq += BATCH) {
  const count = Math.min(BATCH, LINES - seq + 1);
  let text = '';
  for (let n = seq; n < seq + count; n++)
    text += `{"level":30,"time":1700000000000,"pid":1,"hostname":"bench","name":"bench","n":${n},"msg":"request completed","route":"/api/orders"}\n`;
  const body = Buffer.from(text);
  totalBytes += body.length;
  batches.push({ seq, count, body });
}

async function collector(args, dir) {
  const child = spawn(process.execPath, [MAIN, 'collector', ...args], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.setEncoding('utf8');
  const address = await new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      err += chunk;
      const match = /^listening (tcp\/\S+)$/m.exec(err);
      if (match) resolve(match[1]);
    });
    child.once('exit', () => reject(new Error(`collector exited:\n${err}`)));
  });
  return { child, port: Number(address.slice(address.lastIndexOf(':') + 1)) };
}

/** One session: REGISTER, EVENTS pipelined within WINDOW, until the last ACK. */
async function ship(port) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let acked = 0;
  let wake = () => undefined;
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk) => {
    text += chunk;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n')) {
      const line = text.slice(0, i);
      text = text.slice(i + 1);
      const ack = /^ACK seq=(\d+)/.exec(line);
      if (ack) acked = Math.max(acked, Number(ack[1]));
      if (line.startsWith('READY') || ack) wake();
    }
  });
  const wait = () => new Promise((resolve) => (wake = resolve));
  socket.write(
    `REGISTER version=1;source=bench-${process.pid}-${Date.now()};service=bench;host=bench;next=1\n`,
  );
  await wait();
  let inFlight = [];
  for (const batch of batches) {
    while (inFlight.length > 0 && inFlight.reduce((sum, b) => sum + b.body.length, 0) > WINDOW) {
      await wait();
      inFlight = inFlight.filter((b) => b.seq + b.count - 1 > acked);
    }
    socket.write(`EVENTS seq=${batch.seq};count=${batch.count};bytes=${batch.body.length}\n`);
    if (!socket.write(batch.body)) await once(socket, 'drain');
    inFlight.push(batch);
  }
  while (acked < LINES) await wait();
  socket.end();
}

async function untilBytes(path) {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {}
    if (size >= totalBytes) return;
    if (Date.now() > deadline) throw new Error(`${path}: ${size} of ${totalBytes} bytes`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function round(kind) {
  const dir = mkdtempSync(join(tmpdir(), 'lw-bench-relay-'));
  const started = [];
  try {
    const b = await collector(['--listen', 'tcp/127.0.0.1:0', '--output', join(dir, 'b')], dir);
    started.push(b.child);
    let target = b.port;
    if (kind === 'relay') {
      const a = await collector(
        ['--listen', 'tcp/127.0.0.1:0', '--state', join(dir, 'a'), '--forward', `tcp/127.0.0.1:${b.port}`],
        dir,
      );
      started.push(a.child);
      target = a.port;
    }
    const t0 = performance.now();
    await ship(target);
    await untilBytes(join(dir, 'b', 'bench.log'));
    return (performance.now() - t0) / 1000;
  } finally {
    for (const child of started) {
      child.kill('SIGKILL');
      await once(child, 'exit').catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = { direct: [], relay: [] };
for (let run = 0; run < RUNS; run++)
  for (const kind of ['direct', 'relay']) times[kind].push(await round(kind));
const rate = (kind) => LINES / median(times[kind]);
console.log(
  `${LINES} records (${(totalBytes / 1e6).toFixed(1)} MB), ${RUNS} rounds each, until B's file holds them`,
);
for (const kind of ['direct', 'relay'])
  console.log(
    `  ${kind.padEnd(6)} ${Math.round(rate(kind)).toLocaleString('en')} records/s (median of ${times[kind].map((t) => t.toFixed(2)).join(', ')} s)`,
  );
console.log(`  relay / direct: ${(rate('relay') / rate('direct')).toFixed(2)}`);
