/**
 * The appender against pino-socket (issue #4): one pino app (bench/appender-app.mjs, a child
 * process per run) logs COUNT records over TCP to a fresh logwire collector, and we measure
 *
 *   emit       main-thread time of the logging loop (hrtime around it, in the app)
 *   delivered  from spawning the app until the collector's output file holds COUNT records
 *              (logwire: written, hence acknowledged); for pino-socket, which can lose records
 *              at exit, until COUNT or until the app has exited and nothing more came for 2 s
 *              (the time of the last growth is reported, with how many arrived)
 *   after loop delivered, counted from the end of the app's logging loop instead (the
 *              shipping phase alone: in a tight loop pino hands the worker nothing until the
 *              loop yields, so the two sides ship only after it)
 *   exit       from spawning the app until it exited (logwire exits once all is acknowledged)
 *   peak RSS   the app's process.resourceUsage().maxRSS at exit (both threads)
 *   CPU        the app's user + system CPU; "main-thread": the app's own thread alone (Linux, 10 ms
 *              ticks); "off main": all the rest (the transport's worker, GC helpers, libuv's
 *              pool); and the collector's,
 *              start-up included (the third party on a 2-core machine: what it takes, the app lacks)
 *
 *   npm run build && node bench/appender.mjs   (logwire as a transport and in process, against pino-socket)
 *   LW_BENCH_COUNT=200000 LW_BENCH_RUNS=2 node bench/appender.mjs          (a quick check)
 *   LW_BENCH_VARIANTS=logwire,pino-socket,pino-socket-reconnect node bench/appender.mjs
 *   LW_BENCH_OPTIONS='{"queue":{"maxBytes":268435456}}' node bench/appender.mjs  (on top of each logwire variant's)
 *   LOGWIRE_DIST=.tmp/lw-dist node bench/appender.mjs                        (another build, inside the repo)
 *   LW_BENCH_BASE=.tmp/dist-old LW_BENCH_VARIANTS=logwire,logwire-base,pino-socket node bench/appender.mjs
 *                     (this build against another one, alternating, in one run)
 *   LW_BENCH_CPU_PROF=/tmp/prof node bench/appender.mjs                      (--cpu-prof on the app, per variant)
 *   LW_BENCH_COLLECTOR_PROF=/tmp/cprof node bench/appender.mjs               (--cpu-prof on the collector)
 *   LW_BENCH_VARIANTS=logwire-inprocess,pino-socket-inprocess,logwire,pino-socket node bench/appender.mjs
 *                     (in process, `pino(await transport(options))`, beside both as transports)
 *   LW_BENCH_SINK=instant node bench/appender.mjs    (bench/appender-sink.mjs instead of the collector:
 *                     ACKs each EVENTS at once, counts ndjson lines, writes nothing; "delivered" is
 *                     when the sink has read COUNT records; LW_SINK_ACK_DELAY_MS=30 holds each ACK)
 *
 * Both sides pay the same file-writing cost: logwire goes to the collector's tcp listener
 * (sessions, acknowledgements), pino-socket to its ndjson listener (plain NDJSON, no acks), and
 * both are written to `<output>/<service>.log`. Runs alternate (logwire, pino-socket, then pino-socket, logwire: ABBA) so the
 * noise of a shared machine falls on both; medians are reported, with the ratio logwire/peer,
 * and the median of the per-round ratios (each round's runs are back to back) with the rounds
 * logwire was at or below the peer.
 *
 * Records have a fixed length (see the app), so the output file is watched by its size alone
 * (stat every 10 ms) and its line count is checked once at the end of the run.
 */

import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DIST, processCpuMs } from './measure.mjs';

const COUNT = Number(process.env.LW_BENCH_COUNT ?? 1_000_000);
const RUNS = Number(process.env.LW_BENCH_RUNS ?? 5);
/**
 * What runs: the app's transport and, for logwire, options on top of its defaults (and of
 * LW_BENCH_OPTIONS). pino-socket gets only what it needs to be a TCP client, else its defaults.
 */
const VARIANT_DEFS = {
  logwire: { transport: 'logwire', options: {} },
  // The window that keeps up with a 1M-record burst on loopback (see the report in docs/benchmarks.md).
  'logwire-window4m': { transport: 'logwire', options: { window: 4 * 1024 * 1024 } },
  // The service named up front (pino's `name` in the app): the session registers before the loop.
  'logwire-service': { transport: 'logwire', options: { service: 'billing' } },
  'pino-socket': { transport: 'pino-socket' },
  // Another build (LW_BENCH_BASE=<its dist/, inside the repo>), to compare two builds in one run.
  ...(process.env.LW_BENCH_BASE
    ? {
        'logwire-base': {
          transport: 'logwire',
          options: {},
          target: fileURLToPath(
            new URL('appender/index.js', pathToFileURL(`${resolve(process.env.LW_BENCH_BASE)}/`)),
          ),
        },
      }
    : {}),
  'pino-socket-reconnect': { transport: 'pino-socket-reconnect' },
  // In the app's own thread (`pino(await transport(options))`): no worker, no thread-stream.
  // A tight loop never yields, so nothing ships during it: the queue must hold the whole burst
  // (pino-socket's socket buffers it all, without a bound).
  'logwire-inprocess': {
    transport: 'logwire',
    options: { queue: { maxBytes: 512 * 1024 * 1024 } },
    mode: 'inprocess',
  },
  'pino-socket-inprocess': { transport: 'pino-socket', mode: 'inprocess' },
  // logwire's own shipping thread (createThreadedAppender): it ships while the loop runs.
  'logwire-thread': { transport: 'logwire', options: {}, mode: 'thread' },
};
const VARIANTS = (process.env.LW_BENCH_VARIANTS ?? 'logwire,logwire-inprocess,pino-socket')
  .split(',')
  .filter(Boolean);
for (const v of VARIANTS)
  if (!(v in VARIANT_DEFS))
    throw new Error(`unknown variant ${v}: one of ${Object.keys(VARIANT_DEFS).join(', ')}`);
const EXTRA_OPTIONS = JSON.parse(process.env.LW_BENCH_OPTIONS || '{}');
const CPU_PROF = process.env.LW_BENCH_CPU_PROF;
const COLLECTOR_PROF = process.env.LW_BENCH_COLLECTOR_PROF;
const POLL_MS = 10;
const QUIET_MS = 2000;
const RUN_TIMEOUT_MS = 120_000;
const SINK = process.env.LW_BENCH_SINK === 'instant';

const APP = fileURLToPath(new URL('./appender-app.mjs', import.meta.url));
const CLI = fileURLToPath(new URL('collector/cli/main.js', DIST));
const SINK_SCRIPT = fileURLToPath(new URL('./appender-sink.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** With LOGWIRE_DIST, the app loads that build's appender by path, not the package's dist/. */
const TARGET = process.env.LOGWIRE_DIST ? fileURLToPath(new URL('appender/index.js', DIST)) : '';

const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// ── the collector ─────────────────────────────────────────────────────────────────────────────

/** A fresh collector on port 0 (tcp and ndjson listeners), writing into a new temp dir. */
async function startCollector(variant) {
  const output = mkdtempSync(join(tmpdir(), 'lw-bench-appender-'));
  const prof =
    COLLECTOR_PROF === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', resolve(COLLECTOR_PROF, variant)];
  const child = spawn(
    process.execPath,
    SINK
      ? [SINK_SCRIPT]
      : [
          ...prof,
          CLI,
          'collector',
          '--listen',
          'tcp/127.0.0.1:0',
          '--listen',
          'ndjson/127.0.0.1:0',
          '--output',
          output,
        ],
    {
      stdio: ['ignore', 'ignore', 'pipe', ...(SINK ? ['ipc'] : [])],
      cwd: output,
      env: { ...process.env, LW_SINK_DIST: DIST.href },
    },
  );
  // The sink's progress: records read so far and when the last ones came (this clock).
  const sink = { records: 0, at: 0 };
  if (SINK) child.on('message', (m) => Object.assign(sink, m));
  const ports = {};
  let stderr = '';
  await new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`collector did not listen: ${stderr}`)), 15_000);
    child.once('exit', (code) => fail(new Error(`collector exited (${code}): ${stderr}`)));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text) => {
      stderr += text;
      for (const match of stderr.matchAll(/listening (tcp|ndjson)\/127\.0\.0\.1:(\d+)/g))
        ports[match[1]] = Number(match[2]);
      if (ports.tcp !== undefined && ports.ndjson !== undefined) {
        clearTimeout(timer);
        done();
      }
    });
  });
  child.removeAllListeners('exit');
  return { child, output, ports, sink, stderr: () => stderr };
}

/** The collector's peak RSS (KiB) so far, from /proc (Linux); undefined elsewhere. */
function peakRss(pid) {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function stopCollector(collector) {
  const { child } = collector;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(collector.output, { recursive: true, force: true });
}

// ── watching the output ───────────────────────────────────────────────────────────────────────

/** The record files the collector wrote (not `_rejected.log`, not the state dir). */
function recordFiles(dir) {
  return readdirSync(dir).filter((name) => name.endsWith('.log') && !name.startsWith('_'));
}

/** The length of the first line of `path`, once one is there. */
function firstLineLength(path) {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const lf = buf.subarray(0, n).indexOf(10);
    return lf === -1 ? undefined : lf + 1;
  } finally {
    closeSync(fd);
  }
}

/** LFs in the whole file (once, at the end of a run). */
function countLines(path) {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  let lines = 0;
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
      const view = buf.subarray(0, n);
      for (let at = view.indexOf(10); at !== -1; at = view.indexOf(10, at + 1)) lines += 1;
    }
  } finally {
    closeSync(fd);
  }
  return lines;
}

// ── one run ─────────────────────────────────────────────────────────────────────────────────

async function run(variant) {
  const collector = await startCollector(variant);
  const def = VARIANT_DEFS[variant];
  const logwire = def.transport === 'logwire';
  const port = logwire ? collector.ports.tcp : collector.ports.ndjson;
  const profile = CPU_PROF !== undefined;
  const args = profile ? ['--cpu-prof', '--cpu-prof-dir', resolve(CPU_PROF, variant), APP] : [APP];
  const spawnedAt = now();
  const app = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      LW_BENCH_TRANSPORT: def.transport,
      LW_BENCH_OPTIONS: JSON.stringify({ ...def.options, ...EXTRA_OPTIONS }),
      LW_BENCH_PORT: String(port),
      LW_BENCH_COUNT: String(COUNT),
      LW_BENCH_TARGET: def.target ?? TARGET,
      LW_BENCH_MODE: def.mode ?? 'worker',
    },
  });
  let stdout = '';
  let stderr = '';
  app.stdout.setEncoding('utf8').on('data', (text) => (stdout += text));
  app.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
  let exitedAt;
  let exitCode;
  app.once('exit', (code, signal) => {
    exitedAt = now();
    exitCode = code ?? signal;
  });
  // 'close' comes once stdout and stderr are read to their end: a report written just before
  // exit is not missed.
  const exited = new Promise((done) => app.once('close', done));

  let file;
  let lineLength;
  let size = 0;
  let grewAt = spawnedAt;
  let deliveredAt;
  const deadline = spawnedAt + RUN_TIMEOUT_MS;
  for (;;) {
    await sleep(POLL_MS);
    const t = now();
    if (SINK) {
      if (collector.sink.records > 0) grewAt = collector.sink.at;
      if (collector.sink.records >= COUNT) {
        deliveredAt = collector.sink.at;
        break;
      }
    } else if (file === undefined) file = recordFiles(collector.output)[0];
    if (file !== undefined) {
      const path = join(collector.output, file);
      const current = statSync(path).size;
      if (current > size) {
        size = current;
        grewAt = t;
        lineLength ??= firstLineLength(path);
      }
      if (lineLength !== undefined && size >= COUNT * lineLength) {
        deliveredAt = t;
        break;
      }
    }
    if (exitedAt !== undefined && t - Math.max(grewAt, exitedAt) >= QUIET_MS) {
      deliveredAt = grewAt;
      break;
    }
    if (t > deadline) {
      deliveredAt = grewAt;
      break;
    }
  }
  if (!(await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]))) {
    app.kill('SIGKILL');
    await exited;
  }
  const collectorRssKiB = peakRss(collector.child.pid);
  const collectorCpuMs = processCpuMs(collector.child.pid);
  const path = file === undefined ? undefined : join(collector.output, file);
  const records = SINK ? collector.sink.records : path === undefined ? 0 : countLines(path);
  const rejected = existsSync(join(collector.output, '_rejected.log'))
    ? countLines(join(collector.output, '_rejected.log'))
    : 0;
  await stopCollector(collector);

  let report;
  try {
    report = JSON.parse(stdout.trim().split('\n').pop());
  } catch {
    throw new Error(
      `${variant}: no report from the app (exit ${exitCode})\nstdout: ${stdout}\nstderr: ${stderr}`,
    );
  }
  if (lineLength !== undefined && records * lineLength !== size)
    console.error(`  note: ${variant}: records are not of one length (${size} bytes, ${records} lines)`);
  return {
    variant,
    emitMs: report.emitMs,
    deliveredMs: deliveredAt - spawnedAt,
    exitMs: exitedAt - spawnedAt,
    // From the end of the logging loop (the app's reading of the same monotonic clock).
    drainMs: deliveredAt - Number(BigInt(report.loopEndNs)) / 1e6,
    records,
    rejected,
    maxRssMiB: report.maxRssKiB / 1024,
    cpuMs: report.cpuUserMs + report.cpuSystemMs,
    // The app's own thread: in process, the appender's whole work; as a transport, pino's
    // serialising plus thread-stream's copying.
    mainCpuMs: report.mainCpuMs ?? Number.NaN,
    // Worker, GC helpers and libuv's pool: all the app's CPU but its main thread's.
    otherCpuMs:
      report.mainCpuMs === undefined ? Number.NaN : report.cpuUserMs + report.cpuSystemMs - report.mainCpuMs,
    collectorRssMiB: collectorRssKiB === undefined ? Number.NaN : collectorRssKiB / 1024,
    collectorCpuMs,
    appStderr: stderr.trim(),
  };
}

// ── the report ──────────────────────────────────────────────────────────────────────────────

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const COLUMNS = [
  ['emitMs', 'emit ms', 0],
  ['deliveredMs', 'delivered ms', 0],
  ['drainMs', 'after loop ms', 0],
  ['exitMs', 'app exit ms', 0],
  ['records', 'records delivered', 0],
  ['maxRssMiB', 'app peak RSS MiB', 1],
  ['cpuMs', 'app CPU ms', 0],
  ['mainCpuMs', 'app main-thread CPU ms', 0],
  ['otherCpuMs', 'app CPU off main ms', 0],
  ['collectorRssMiB', 'collector RSS MiB', 1],
  ['collectorCpuMs', 'collector CPU ms', 0],
];

function row(cells, widths) {
  return `| ${cells.map((cell, i) => String(cell).padEnd(widths[i])).join(' | ')} |`;
}

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  return [
    row(header, widths),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map((r) => row(r, widths)),
  ].join('\n');
}

async function main() {
  console.log(
    `bench/appender: ${COUNT} records, ${RUNS} runs of ${VARIANTS.join(' / ')} alternating (ABBA); ` +
      `node ${process.version}, ${availableParallelism()} cores`,
  );
  const results = Object.fromEntries(VARIANTS.map((v) => [v, []]));
  for (let i = 0; i < RUNS; i++) {
    // ABBA: every other round runs the variants in reverse, so a drift of the machine (or what
    // one run leaves behind for the next, such as dirty pages) falls on each side alike.
    const order = i % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
    for (const variant of order) {
      const r = await run(variant);
      results[variant].push(r);
      console.log(
        `  run ${i + 1} ${variant.padEnd(22)} emit ${r.emitMs.toFixed(0).padStart(6)} ms  delivered ${r.deliveredMs
          .toFixed(0)
          .padStart(
            6,
          )} ms  (after loop ${r.drainMs.toFixed(0).padStart(5)})  exit ${r.exitMs.toFixed(0).padStart(6)} ms  records ${String(r.records).padStart(8)}  ` +
          `rss ${r.maxRssMiB.toFixed(1).padStart(6)} MiB  cpu ${r.cpuMs.toFixed(0).padStart(6)} ms (off main ${r.otherCpuMs.toFixed(0).padStart(5)})  collector cpu ${r.collectorCpuMs.toFixed(0).padStart(5)} ms` +
          (r.rejected ? `  rejected ${r.rejected}` : '') +
          (r.appStderr ? `\n      app stderr: ${r.appStderr.split('\n').join('\n      ')}` : ''),
      );
    }
  }
  const medians = Object.fromEntries(
    VARIANTS.map((v) => [
      v,
      Object.fromEntries(COLUMNS.map(([key]) => [key, median(results[v].map((r) => r[key]))])),
    ]),
  );
  console.log(`\nmedians of ${RUNS} runs, ${COUNT} records:\n`);
  console.log(
    table(
      ['variant', ...COLUMNS.map(([, title]) => title)],
      VARIANTS.map((v) => [v, ...COLUMNS.map(([key, , digits]) => medians[v][key].toFixed(digits))]),
    ),
  );
  const ours = VARIANTS.filter((v) => VARIANT_DEFS[v].transport === 'logwire');
  const peers = VARIANTS.filter((v) => VARIANT_DEFS[v].transport !== 'logwire');
  // Every pair, across modes too: how logwire in process compares with pino-socket as a transport
  // is what a user choosing between them asks.
  const pairs = ours.flatMap((o) => peers.map((p) => [o, p]));
  if (pairs.length > 0) {
    console.log('\nratios logwire / pino-socket (below 1: logwire is lower):\n');
    console.log(
      table(
        ['logwire / peer', ...COLUMNS.map(([, title]) => title)],
        pairs.map(([o, p]) => [
          `${o} / ${p}`,
          ...COLUMNS.map(([key]) => (medians[o][key] / medians[p][key]).toFixed(2)),
        ]),
      ),
    );
    // Runs i of two variants ran back to back: their ratio cancels the machine's drift between
    // rounds, which a ratio of medians does not. "k/n": rounds where logwire was at or below.
    const pairedTable = (title, cell) => {
      console.log(`\npaired: ${title}:\n`);
      console.log(
        table(
          ['logwire / peer', ...PAIRED.map(([, heading]) => heading)],
          pairs.map(([o, p]) => [
            `${o} / ${p}`,
            ...PAIRED.map(([key]) => cell(results[o].map((r, i) => r[key] / results[p][i][key]))),
          ]),
        ),
      );
    };
    pairedTable(
      'median of the per-round ratios, and rounds where logwire was ≤ the peer',
      (ratios) => `${median(ratios).toFixed(2)} (${ratios.filter((x) => x <= 1).length}/${ratios.length})`,
    );
    // Whether a difference is there at all: the geometric mean of the per-round ratios with a 95 %
    // interval (Student's t on their logarithms). An interval that holds 1.00 is no measured difference.
    if (RUNS >= 3) {
      pairedTable('geometric mean of the per-round ratios [95 % interval]', (ratios) => {
        const { mean, low, high } = ratioInterval(ratios);
        return `${mean.toFixed(3)} [${low.toFixed(3)}, ${high.toFixed(3)}]`;
      });
    }
  }
}

/** Geometric mean of ratios and its 95 % interval, from the mean and spread of their logarithms. */
function ratioInterval(ratios) {
  const logs = ratios.map(Math.log);
  const n = logs.length;
  const mean = logs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const half = tQuantile975(n - 1) * (sd / Math.sqrt(n));
  return { mean: Math.exp(mean), low: Math.exp(mean - half), high: Math.exp(mean + half) };
}

/** Student's t at 97.5 % for `df` degrees of freedom (the table's next lower row; 1.96 past 60). */
function tQuantile975(df) {
  const rows = [
    [1, 12.71],
    [2, 4.3],
    [3, 3.18],
    [4, 2.78],
    [5, 2.57],
    [6, 2.45],
    [7, 2.36],
    [8, 2.31],
    [9, 2.26],
    [10, 2.23],
    [12, 2.18],
    [15, 2.13],
    [20, 2.09],
    [25, 2.06],
    [30, 2.04],
    [40, 2.02],
    [60, 2.0],
    [Number.POSITIVE_INFINITY, 1.96],
  ];
  let t = rows[0][1];
  for (const [at, value] of rows) if (df >= at) t = value;
  return t;
}

const PAIRED = COLUMNS.filter(([key]) =>
  ['emitMs', 'deliveredMs', 'drainMs', 'maxRssMiB', 'mainCpuMs'].includes(key),
);

await main();
