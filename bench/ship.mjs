/**
 * `logwire ship` from a pipe against `pino-socket` from a pipe, in one run: the same NDJSON
 * lines go `producer | logwire ship --address tcp/…` into a collector's session listener, or
 * `producer | pino-socket -a 127.0.0.1 -p …` into the same collector's ndjson listener, timed
 * from the producer's start until the collector's file holds every line. Rounds alternate
 * (ship, pino-socket, ship, …) on fresh collectors, so a noisy machine hurts both alike; the
 * medians and the ratio ship / pino-socket are printed. `logwire ship` waits for every
 * acknowledgement before it exits; pino-socket acknowledges nothing.
 *
 *   npm run build && node bench/ship.mjs
 *   LOGWIRE_BENCH_LINES=100000 LOGWIRE_BENCH_RUNS=2 node bench/ship.mjs   (a quick check)
 *
 * Env: LOGWIRE_BENCH_LINES (500,000), LOGWIRE_BENCH_RUNS (3 of each).
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST } from './measure.mjs';

const LINES = Number(process.env.LOGWIRE_BENCH_LINES ?? 500_000);
const RUNS = Number(process.env.LOGWIRE_BENCH_RUNS ?? 3);
const TIMEOUT_MS = 60_000;
const MAIN = fileURLToPath(new URL('collector/cli/main.js', DIST));
const PINO_SOCKET = createRequire(import.meta.url).resolve('pino-socket/psock.js');

const line = (n) =>
  `{"level":30,"time":1700000000000,"pid":1,"hostname":"bench","name":"bench","n":${n},"msg":"request completed"}\n`;
let expected = 0;
for (let n = 1; n <= LINES; n++) expected += Buffer.byteLength(line(n));
const input = join(mkdtempSync(join(tmpdir(), 'lw-bench-ship-')), 'input.ndjson');
writeFileSync(input, Array.from({ length: LINES }, (_, i) => line(i + 1)).join(''));

/** A collector with a session listener and an ndjson listener (service `bench`); its two ports. */
async function collector(dir) {
  const args = [
    'collector',
    '--listen',
    'tcp/127.0.0.1:0',
    '--listen',
    'ndjson/127.0.0.1:0',
    '--output',
    dir,
  ];
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8');
  const ports = await new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      err += chunk;
      const tcp = /^listening tcp\/127\.0\.0\.1:(\d+)$/m.exec(err);
      const ndjson = /^listening ndjson\/127\.0\.0\.1:(\d+)$/m.exec(err);
      if (tcp && ndjson) resolve({ tcp: Number(tcp[1]), ndjson: Number(ndjson[1]) });
    });
    child.once('exit', () => reject(new Error(`collector exited:\n${err}`)));
  });
  return { child, ...ports };
}

/**
 * Polls the collector's file until it holds `bytes`, or (once `exited` says the shipper is gone)
 * until it has not grown for a second: a shipper that lost lines never fills it. Returns the
 * time of the last growth seen and the bytes there.
 */
async function filled(path, bytes, exited) {
  const deadline = Date.now() + TIMEOUT_MS;
  let size = -1;
  let grewAt = performance.now();
  for (;;) {
    let now = 0;
    try {
      now = statSync(path).size;
    } catch {}
    if (now !== size) {
      size = now;
      grewAt = performance.now();
    }
    if (size >= bytes) return { at: grewAt, bytes: size };
    if (exited() && performance.now() - grewAt > 1000) return { at: grewAt, bytes: size };
    if (Date.now() > deadline) throw new Error(`${path}: ${size} of ${bytes} bytes`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** `cat input | <shipper>`; resolves with the ms until the collector's file is complete. */
async function run(kind) {
  const dir = mkdtempSync(join(tmpdir(), `lw-bench-ship-${kind}-`));
  const c = await collector(dir);
  try {
    const shipper =
      kind === 'ship'
        ? [MAIN, 'ship', '--address', `tcp/127.0.0.1:${c.tcp}`, '--service', 'bench']
        : [PINO_SOCKET, '-m', 'tcp', '-a', '127.0.0.1', '-p', String(c.ndjson), '-ne'];
    const started = performance.now();
    const child = spawn(process.execPath, shipper, { stdio: ['pipe', 'ignore', 'inherit'] });
    let code;
    child.once('exit', (exitCode) => {
      code = exitCode;
    });
    const cat = spawn('cat', [input], { stdio: ['ignore', child.stdin, 'inherit'] });
    await once(cat, 'exit');
    child.stdin.end();
    // logwire ship's file is bench.log; the ndjson listener's default service is ndjson.
    const file = join(dir, kind === 'ship' ? 'bench.log' : 'ndjson.log');
    const last = await filled(file, expected, () => code !== undefined);
    if (code === undefined) await once(child, 'exit');
    if (kind === 'ship' && code !== 0) throw new Error(`logwire ship exited ${code}`);
    return { ms: last.at - started, delivered: last.bytes / expected };
  } finally {
    c.child.kill('SIGTERM');
    await once(c.child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const runs = { ship: [], 'pino-socket': [] };
for (let round = 0; round < RUNS; round++) {
  const order = round % 2 === 0 ? ['ship', 'pino-socket'] : ['pino-socket', 'ship'];
  for (const kind of order) runs[kind].push(await run(kind));
}
rmSync(join(input, '..'), { recursive: true, force: true });
const pct = (r) => `${(r.delivered * 100).toFixed(1)} %`;
console.log(`${LINES} lines from a pipe, ${RUNS} rounds each: ms to the last line in the file (delivered)`);
for (const [kind, list] of Object.entries(runs)) {
  const each = list.map((r) => `${r.ms.toFixed(0)} (${pct(r)})`).join(', ');
  console.log(`  ${kind.padEnd(12)} median ${median(list.map((r) => r.ms)).toFixed(0)}: ${each}`);
}
const ratio = median(runs.ship.map((r) => r.ms)) / median(runs['pino-socket'].map((r) => r.ms));
console.log(`  ratio ship / pino-socket (medians): ${ratio.toFixed(2)}`);
