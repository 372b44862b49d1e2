/**
 * Scale-out throughput, one quick run of each (docs/scale-out.md):
 *
 *   direct     app ─▶ collector ─▶ files
 *   jetstream  app ─▶ collector --jetstream ─▶ 3-node JetStream (R3) ─▶ collector --from-jetstream ─▶ files
 *
 * The app is bench/appender-app.mjs (pino + the appender, a tight loop of fixed-length
 * records). Timed: from the app's start to its exit (every record acknowledged: for jetstream,
 * stored by the stream), and to the last record in the output file. "Where the time goes" is
 * the CPU time (user + system, all threads) of every process of the path during the run.
 *
 *   npm run build && node bench/jetstream.mjs
 *   LOGWIRE_BENCH_LINES=500000 node bench/jetstream.mjs
 *
 * Needs nats-server (env NATS_SERVER, default /usr/sbin/nats-server).
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST, processCpuMs } from './measure.mjs';

const LINES = Number(process.env.LOGWIRE_BENCH_LINES ?? 200_000);
const NATS_SERVER = process.env.NATS_SERVER ?? '/usr/sbin/nats-server';
const MAIN = fileURLToPath(new URL('collector/cli/main.js', DIST));
const APP = fileURLToPath(new URL('./appender-app.mjs', import.meta.url));
const TIMEOUT_MS = 120_000;

const children = new Set();
function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Three nats-server nodes with JetStream, each its own store; resolves once each is ready. */
async function natsCluster(dir) {
  const ports = [];
  for (let i = 0; i < 3; i++) ports.push({ client: await freePort(), route: await freePort() });
  const nodes = ports.map((p, i) => {
    const store = join(dir, `n${i}`);
    mkdirSync(store, { recursive: true });
    const routes = ports.filter((_, j) => j !== i).map((q) => `"nats-route://127.0.0.1:${q.route}"`);
    const file = join(dir, `n${i}.conf`);
    writeFileSync(
      file,
      `server_name: n${i}\nlisten: "127.0.0.1:${p.client}"\njetstream { store_dir: "${store}" }\n` +
        `cluster { name: "bench", listen: "127.0.0.1:${p.route}", routes: [${routes.join(', ')}] }\n`,
    );
    const child = track(spawn(NATS_SERVER, ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] }));
    return { child, url: `nats://127.0.0.1:${p.client}` };
  });
  await Promise.all(nodes.map((node) => readyLine(node.child, 'Server is ready')));
  return nodes;
}

function readyLine(child, text) {
  return new Promise((resolve, reject) => {
    let log = '';
    const onData = (chunk) => {
      log += chunk;
      if (log.includes(text)) resolve(log);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code} before "${text}":\n${log}`)));
  });
}

/** A collector; resolves with its child and first port once it listens. Retries while JetStream elects. */
async function collector(args) {
  for (let attempt = 0; ; attempt++) {
    const child = track(
      spawn(process.execPath, [MAIN, 'collector', ...args], { stdio: ['ignore', 'ignore', 'pipe'] }),
    );
    try {
      const log = await readyLine(child, 'listening tcp/');
      return { child, port: Number(/listening tcp\/127\.0\.0\.1:(\d+)/.exec(log)[1]) };
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500)); // the cluster's meta leader is not elected yet
    }
  }
}

/** Runs the app; resolves with ms from its start to its exit. */
async function app(port) {
  const started = performance.now();
  const child = track(
    spawn(process.execPath, [APP], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, LW_BENCH_PORT: String(port), LW_BENCH_COUNT: String(LINES) },
    }),
  );
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`app exited ${code}`);
  return performance.now() - started;
}

/** Resolves with ms from `started` until `file` holds LINES lines (fixed-length records). */
async function fileComplete(file, started) {
  const deadline = Date.now() + TIMEOUT_MS;
  let lineBytes = 0;
  for (;;) {
    try {
      if (lineBytes === 0) lineBytes = readFileSync(file, 'utf8').indexOf('\n') + 1;
      if (lineBytes > 0 && statSync(file).size >= lineBytes * LINES) return performance.now() - started;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${file} incomplete after ${TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function cpu(processes) {
  return Object.fromEntries(
    Object.entries(processes).map(([name, child]) => [name, processCpuMs(child.pid)]),
  );
}

function show(name, appMs, filesMs, before, after) {
  const rate = (ms) => `${Math.round(LINES / (ms / 1000)).toLocaleString('en')} lines/s`;
  console.log(
    `${name.padEnd(10)} app acknowledged ${rate(appMs).padStart(18)} (${appMs.toFixed(0)} ms)` +
      `   files complete ${rate(filesMs).padStart(18)} (${filesMs.toFixed(0)} ms)`,
  );
  const parts = Object.keys(after).map((k) => `${k} ${Math.round(after[k] - before[k])} ms`);
  console.log(`${''.padEnd(10)} CPU during the run: ${parts.join(', ')}`);
}

async function direct(dir) {
  const out = join(dir, 'direct');
  const c = await collector(['--listen', 'tcp/127.0.0.1:0', '--output', out]);
  const before = cpu({ collector: c.child });
  const started = performance.now();
  const appMs = await app(c.port);
  const filesMs = await fileComplete(join(out, 'billing.log'), started);
  show('direct', appMs, filesMs, before, cpu({ collector: c.child }));
  c.child.kill('SIGTERM');
}

async function viaJetStream(dir) {
  const nodes = await natsCluster(join(dir, 'nats'));
  const servers = nodes.flatMap((n) => ['--jetstream', n.url]);
  const front = await collector(['--listen', 'tcp/127.0.0.1:0', '--output', join(dir, 'front'), ...servers]);
  const out = join(dir, 'files');
  const writer = await collector([
    '--listen',
    'tcp/127.0.0.1:0',
    '--output',
    out,
    ...nodes.flatMap((n) => ['--from-jetstream', n.url]),
  ]);
  const processes = { 'front collector': front.child, 'writing collector': writer.child };
  nodes.forEach((n, i) => {
    processes[`nats n${i}`] = n.child;
  });
  const before = cpu(processes);
  const started = performance.now();
  const appMs = await app(front.port);
  const filesMs = await fileComplete(join(out, 'billing.log'), started);
  show('jetstream', appMs, filesMs, before, cpu(processes));
}

console.log(
  `# scale-out: ${LINES.toLocaleString('en')} records, app → collector → JetStream R3 → files vs direct`,
);
console.log(`# node ${process.version}, dist ${fileURLToPath(DIST)}, one run each`);
const dir = mkdtempSync(join(tmpdir(), 'lw-bench-js-'));
try {
  await direct(dir);
  await viaJetStream(dir);
} finally {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
