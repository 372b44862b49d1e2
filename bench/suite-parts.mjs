/**
 * The suite's measurements, each returning plain numbers per run:
 *   appenderRun   one pino app (bench/appender-app.mjs) into a fresh collector: logwire over its
 *                 tcp listener or pino-socket over its ndjson listener, in one of three modes
 *   collectorRound one round of bench/collector.mjs (collector, no-parsing sink, rsyslog)
 *   scaleRun      N raw sessions into one collector (one file, or one file per session)
 *   latencyRun    log.info → line in the file, at a given rate
 */

import { fork, spawn } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The compiled tree: ../dist, or env LOGWIRE_DIST (an old build, for A/B runs). */
const DIST = process.env.LOGWIRE_DIST ? resolve(process.env.LOGWIRE_DIST) : join(ROOT, 'dist');
const CLI = join(DIST, 'collector', 'cli', 'main.js');
/**
 * Where the collectors' output directories go: the system's temporary directory, or env
 * LW_BENCH_OUTPUT_ROOT (e.g. /dev/shm, to tell the file system's cost from the collector's).
 */
const OUTPUT_ROOT = process.env.LW_BENCH_OUTPUT_ROOT || tmpdir();
/** Node flags for the collector only (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), space-separated. */
const COLLECTOR_NODE_ARGS = (process.env.LW_BENCH_COLLECTOR_NODE_ARGS ?? '').split(' ').filter(Boolean);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A fresh collector on port 0 with the given listeners; resolves with its ports by scheme. Its
 * log goes to a file, as under a service manager, not to a pipe this process reads: this
 * process also plays the clients, and while it is busy a full pipe would block the
 * collector's log writes (stderr writes to a pipe are synchronous).
 */
export async function startCollector(listen) {
  const output = mkdtempSync(join(OUTPUT_ROOT, 'lw-suite-'));
  const logPath = `${output}.stderr`;
  const args = [
    ...COLLECTOR_NODE_ARGS,
    CLI,
    'collector',
    '--output',
    output,
    ...listen.flatMap((address) => ['--listen', address]),
  ];
  const log = openSync(logPath, 'w');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', log], cwd: output });
  closeSync(log);
  const stderr = () => readFileSync(logPath, 'utf8');
  let exited;
  child.once('exit', (code) => {
    exited = code;
  });
  const ports = {};
  const deadline = now() + 20_000;
  while (Object.keys(ports).length < listen.length) {
    if (exited !== undefined) throw new Error(`collector exited (${exited}): ${stderr()}`);
    if (now() > deadline) throw new Error(`collector did not listen: ${stderr()}`);
    await sleep(5);
    for (const m of stderr().matchAll(/listening (\w+)\/127\.0\.0\.1:(\d+)/g)) ports[m[1]] = Number(m[2]);
  }
  return { child, output, logPath, ports };
}

export async function stopCollector(collector) {
  const { child } = collector;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(collector.output, { recursive: true, force: true });
  rmSync(collector.logPath, { force: true });
}

/** The process's CPU time in ms (user + system), from /proc; NaN once it is gone. */
export function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

/** The process's peak RSS in MiB (VmHWM), from /proc. */
export function peakRssMiB(pid) {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

function logFiles(dir) {
  return readdirSync(dir).filter((name) => name.endsWith('.log') && !name.startsWith('_'));
}

function lineLength(path) {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const lf = buf.subarray(0, readSync(fd, buf, 0, 4096, 0)).indexOf(10);
    return lf === -1 ? undefined : lf + 1;
  } finally {
    closeSync(fd);
  }
}

/**
 * One app run. transport: logwire | pino-socket; mode: worker (pino.transport) | thread |
 * inprocess. Returns emit ms, ms from spawn until every record is in the file (for logwire:
 * acknowledged), the app's main-thread CPU ms and peak RSS MiB.
 */
export async function appenderRun(transport, mode, count) {
  const collector = await startCollector(['tcp/127.0.0.1:0', 'ndjson/127.0.0.1:0']);
  const port = transport === 'logwire' ? collector.ports.tcp : collector.ports.ndjson;
  const started = now();
  const app = spawn(process.execPath, [join(ROOT, 'bench', 'appender-app.mjs')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      LW_BENCH_TRANSPORT: transport,
      LW_BENCH_PORT: String(port),
      LW_BENCH_COUNT: String(count),
      LW_BENCH_MODE: mode,
    },
  });
  let stdout = '';
  let stderr = '';
  app.stderr.setEncoding('utf8').on('data', (text) => {
    stderr += text;
  });
  app.stdout.setEncoding('utf8').on('data', (text) => {
    stdout += text;
  });
  let exitedAt;
  app.once('exit', () => {
    exitedAt = now();
  });
  const closed = new Promise((resolve) => app.once('close', resolve));
  let size = 0;
  let grewAt = started;
  let length;
  let deliveredAt;
  for (;;) {
    // Polled every 2 ms: at 10,000 records a run takes about 200 ms.
    await sleep(2);
    const t = now();
    const file = logFiles(collector.output)[0];
    if (file !== undefined) {
      const path = join(collector.output, file);
      const current = statSync(path).size;
      if (current > size) [size, grewAt] = [current, t];
      length ??= lineLength(path);
      if (length !== undefined && size >= count * length) {
        deliveredAt = t;
        break;
      }
    }
    // pino-socket may lose records at exit: then delivered is when the file last grew.
    if ((exitedAt !== undefined && t - Math.max(grewAt, exitedAt) > 2000) || t - started > 300_000) {
      deliveredAt = grewAt;
      break;
    }
  }
  await closed;
  await stopCollector(collector);
  let report;
  try {
    report = JSON.parse(stdout.trim().split('\n').pop());
  } catch {
    throw new Error(`${transport} ${mode} ${count}: no report from the app: ${stderr}`);
  }
  return {
    emitMs: report.emitMs,
    deliveredMs: deliveredAt - started,
    mainCpuMs: report.mainCpuMs ?? Number.NaN,
    rssMiB: report.maxRssKiB / 1024,
    complete: length !== undefined && size >= count * length,
  };
}

/**
 * One round of bench/collector.mjs (each case once, alternating; in odd rounds the peers go
 * first): lines/s per case, parsed from its Markdown rows.
 */
export async function collectorRound(lines, round = 0) {
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'collector.mjs')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      LOGWIRE_BENCH_LINES: String(lines),
      LOGWIRE_BENCH_RUNS: '1',
      LOGWIRE_BENCH_SESSIONS: '1',
      LOGWIRE_BENCH_ROUND: String(round),
    },
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (text) => {
    out += text;
  });
  await new Promise((resolve) => child.once('close', resolve));
  const rate = (pattern) => {
    const row = out.split('\n').find((line) => pattern.test(line));
    return row === undefined ? Number.NaN : Number(row.split('|')[2].replace(/[^0-9.]/g, ''));
  };
  return {
    events: rate(/^\| EVENTS → collector → file, 1 session/),
    sink: rate(/^\| EVENTS → no-parsing sink, 1 connection/),
    ndjson: rate(/^\| NDJSON → collector/),
    rsyslog: rate(/^\| NDJSON → rsyslog/),
    raw: out,
  };
}

const RECORD = (i, n) =>
  `{"level":30,"time":1700000000000,"pid":1,"hostname":"bench","n":${n},"worker":${i},"msg":"request completed","route":"/api/orders"}\n`;

/**
 * The EVENTS frames of session `i` (batches of 500), built before the clock starts: in a real
 * deployment each source builds its own records in its own process, so the one process that
 * plays all of them here must not spend the measured time concatenating strings for them.
 */
function frames(i, count) {
  const out = [];
  for (let seq = 1; seq <= count; seq += 500) {
    const k = Math.min(500, count - seq + 1);
    let body = '';
    for (let n = seq; n < seq + k; n++) body += RECORD(i, n);
    out.push(Buffer.from(`EVENTS seq=${seq};count=${k};bytes=${Buffer.byteLength(body)}\n${body}`));
  }
  return out;
}

/**
 * N sessions (raw protocol clients in this process) each send `perSource` records in batches
 * of 500, pipelined, into one collector; `files`: one output file per session (services
 * differ) or one for all. Two phases, timed apart: every session connects and registers
 * (`setupMs`: first connect until the last READY); then every session sends its batches at
 * once (`rate`: records/s from then until the last ACK); the sessions end after that. With
 * 1,000 sources of 200 records each, one phase timed as a whole would measure mostly how fast
 * a thousand connections open and close; `totalMs` is both phases (first connect until the last
 * ACK). Also the collector's peak RSS, its CPU time in either phase, and this process's CPU
 * time in the data phase.
 */
export async function scaleRun(sources, perSource, filesPerSource) {
  const collector = await startCollector(['tcp/127.0.0.1:0']);
  const built = Array.from({ length: sources }, (_, i) => frames(i, perSource));
  const setupCollectorCpu = cpuMs(collector.child.pid);
  const started = now();
  const sessions = await Promise.all(
    built.map((_, i) => openSession(collector.ports.tcp, i, filesPerSource ? `svc-${i}` : 'scale')),
  );
  const ready = now();
  const collectorCpuBefore = cpuMs(collector.child.pid);
  const driverCpuBefore = process.cpuUsage();
  const ends = await Promise.all(sessions.map((send, i) => send(built[i], perSource)));
  const ms = now() - ready;
  const driverCpu = process.cpuUsage(driverCpuBefore);
  const collectorCpu = cpuMs(collector.child.pid) - collectorCpuBefore;
  for (const end of ends) end();
  const rss = peakRssMiB(collector.child.pid);
  await stopCollector(collector);
  return {
    rate: (sources * perSource) / (ms / 1000),
    rssMiB: rss,
    setupMs: ready - started,
    totalMs: ready - started + ms,
    setupCollectorCpuMs: collectorCpuBefore - setupCollectorCpu,
    ms,
    collectorCpuMs: collectorCpu,
    driverCpuMs: (driverCpu.user + driverCpu.system) / 1000,
  };
}

/**
 * Connects and registers source `i`; resolves once READY came, with what sends the session's
 * frames and resolves once the ACK covers `count`, with what ends the session. Like the
 * original driver it sends everything at once and does not wait on PAUSE: the collector then
 * stops reading it (backpressure), which is what bounds its memory here.
 */
function openSession(port, i, service) {
  return new Promise((resolveReady, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let buffered = '';
    let expected = Number.POSITIVE_INFINITY;
    let done;
    let fail = reject;
    socket.setEncoding('utf8');
    socket.once('connect', () =>
      socket.write(`REGISTER version=1;source=scale-${i};service=${service};host=bench;next=1\n`),
    );
    socket.on('error', (error) => fail(error));
    const send = (batches, count) =>
      new Promise((resolve, rejectSend) => {
        expected = count;
        done = resolve;
        fail = rejectSend;
        for (const frame of batches) socket.write(frame);
      });
    socket.on('data', (text) => {
      buffered += text;
      let lf = buffered.indexOf('\n');
      while (lf !== -1) {
        const line = buffered.slice(0, lf);
        buffered = buffered.slice(lf + 1);
        if (line.startsWith('READY')) resolveReady(send);
        else if (line.startsWith('ACK') && Number(/seq=(\d+)/.exec(line)?.[1]) >= expected) {
          done(() => socket.end());
        } else if (!/^(ACK|PAUSE|UNPAUSE)\b/.test(line) && line !== '')
          fail(new Error(`session ${i}: ${line}`));
        lf = buffered.indexOf('\n');
      }
    });
  });
}

/**
 * log.info → line in the file: an app (pino.transport, logwire/appender) logs at `rate`
 * records/s for `seconds` after a warm-up second (bench/suite-latency-app.mjs), each record
 * carrying its CLOCK_MONOTONIC time; a tail process (bench/suite-latency-tail.mjs) reads the
 * output file as it changes. Returns p50, p99 and max latency in ms of the measured records
 * (warm-up ones left out), `tailLate` (the longest the tail's timer ran late, ms: a measuring
 * process descheduled on a busy machine adds that to what it sees) and `tailNice`.
 */
export async function latencyRun(rate, seconds) {
  const collector = await startCollector(['tcp/127.0.0.1:0']);
  const tail = fork(
    join(ROOT, 'bench', 'suite-latency-tail.mjs'),
    [collector.output, String(rate * (seconds + 2))],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const result = new Promise((resolve, reject) => {
    tail.once('message', resolve);
    tail.once('exit', (code) => reject(new Error(`the latency tail exited (${code}) without a result`)));
  });
  const app = spawn(process.execPath, [join(ROOT, 'bench', 'suite-latency-app.mjs')], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      LW_PORT: String(collector.ports.tcp),
      LW_RATE: String(rate),
      LW_SECONDS: String(seconds),
    },
  });
  app.once('exit', () => tail.send('app-exited'));
  try {
    return await result;
  } finally {
    tail.kill();
    await stopCollector(collector);
  }
}
