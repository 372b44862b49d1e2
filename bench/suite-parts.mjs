/**
 * The suite's measurements, each returning plain numbers per run:
 *   appenderRun   one pino app (bench/appender-app.mjs) into a fresh collector: logwire over its
 *                 tcp listener or pino-socket over its ndjson listener, in one of three modes
 *   collectorRound one round of bench/collector.mjs (collector, no-parsing sink, rsyslog)
 *   scaleRun      N raw sessions into one collector (one file, or one file per session)
 *   latencyRun    log.info → line in the file, at a given rate
 */

import { spawn } from 'node:child_process';
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
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'collector', 'cli', 'main.js');
const now = () => performance.timeOrigin + performance.now();
/** CLOCK_MONOTONIC in ms: the clock the latency app stamps its records with. */
const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fresh collector on port 0 with the given listeners; resolves with its ports by scheme. */
export async function startCollector(listen) {
  const output = mkdtempSync(join(tmpdir(), 'lw-suite-'));
  const args = [CLI, 'collector', '--output', output, ...listen.flatMap((address) => ['--listen', address])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: output });
  const ports = {};
  let stderr = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not listen: ${stderr}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`collector exited (${code}): ${stderr}`)));
    child.stderr.setEncoding('utf8').on('data', (text) => {
      stderr += text;
      for (const m of stderr.matchAll(/listening (\w+)\/127\.0\.0\.1:(\d+)/g)) ports[m[1]] = Number(m[2]);
      if (Object.keys(ports).length >= listen.length) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.removeAllListeners('exit');
  return { child, output, ports };
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
    await sleep(10);
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
 * One round of bench/collector.mjs (each case once, alternating): lines/s per case, parsed
 * from its Markdown rows.
 */
export async function collectorRound(lines) {
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'collector.mjs')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      LOGWIRE_BENCH_LINES: String(lines),
      LOGWIRE_BENCH_RUNS: '1',
      LOGWIRE_BENCH_SESSIONS: '1',
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
 * N sessions (raw protocol clients in this process) each send `perSource` records in batches
 * of 500, pipelined, into one collector; `files`: one output file per session (services
 * differ) or one for all. Returns records/s until the last ACK, and the collector's peak RSS.
 */
export async function scaleRun(sources, perSource, filesPerSource) {
  const collector = await startCollector(['tcp/127.0.0.1:0']);
  const started = now();
  const sessions = Array.from({ length: sources }, (_, i) =>
    session(collector.ports.tcp, i, filesPerSource ? `svc-${i}` : 'scale', perSource),
  );
  await Promise.all(sessions);
  const seconds = (now() - started) / 1000;
  const rss = peakRssMiB(collector.child.pid);
  await stopCollector(collector);
  return { rate: (sources * perSource) / seconds, rssMiB: rss };
}

function session(port, i, service, count) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let buffered = '';
    socket.setEncoding('utf8');
    socket.once('connect', () =>
      socket.write(`REGISTER version=1;source=scale-${i};service=${service};host=bench;next=1\n`),
    );
    socket.on('error', reject);
    socket.on('data', (text) => {
      buffered += text;
      let lf = buffered.indexOf('\n');
      while (lf !== -1) {
        const line = buffered.slice(0, lf);
        buffered = buffered.slice(lf + 1);
        if (line.startsWith('READY')) {
          for (let seq = 1; seq <= count; seq += 500) {
            const k = Math.min(500, count - seq + 1);
            let body = '';
            for (let n = seq; n < seq + k; n++) body += RECORD(i, n);
            socket.write(`EVENTS seq=${seq};count=${k};bytes=${Buffer.byteLength(body)}\n${body}`);
          }
        } else if (line.startsWith('ACK') && Number(/seq=(\d+)/.exec(line)?.[1]) >= count) {
          socket.end();
          resolve();
        } else if (!line.startsWith('ACK') && line !== '') reject(new Error(`session ${i}: ${line}`));
        lf = buffered.indexOf('\n');
      }
    });
  });
}

/**
 * log.info → line in the file: an app (pino.transport, logwire/appender) logs at `rate`
 * records/s for `seconds` after a warm-up second (bench/suite-latency-app.mjs), each record
 * carrying its CLOCK_MONOTONIC time; this process tails the output file every millisecond.
 * Returns p50, p99 and max latency in ms of the measured records (warm-up ones left out), and
 * `tailStall`, the longest the tail loop itself was late (ms past its 1 ms sleep): a stall of the
 * measuring process (descheduled on a busy machine) shows in the figures, so it is reported.
 */
export async function latencyRun(rate, seconds) {
  const collector = await startCollector(['tcp/127.0.0.1:0']);
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
  let done = false;
  app.once('exit', () => {
    done = true;
  });
  const tail = new LatencyTail(rate * (seconds + 2));
  let fd;
  let quietSince = now();
  let looped = now();
  let tailStall = 0;
  while (!done || now() - quietSince < 1000) {
    await sleep(1);
    tailStall = Math.max(tailStall, now() - looped - 1);
    looped = now();
    if (fd === undefined) {
      const file = logFiles(collector.output)[0];
      if (file === undefined) continue;
      fd = openSync(join(collector.output, file), 'r');
    }
    if (tail.read(fd)) quietSince = now();
  }
  if (fd !== undefined) closeSync(fd);
  await stopCollector(collector);
  return { ...tail.quantiles(), tailStall };
}

const LF = 0x0a;
const T_KEY = Buffer.from('"t":');
const WARMUP = Buffer.from('"warmup":true');

/**
 * Reads what the collector appended and notes each measured record's latency. Nothing is
 * allocated per read or per record (no strings, no regex, latencies in a typed array): a
 * garbage collection in the measuring process would be counted as latency of the records it
 * delays.
 */
class LatencyTail {
  #buf = Buffer.allocUnsafe(4 << 20);
  /** Bytes of a partial last line, kept at the start of #buf. */
  #held = 0;
  #offset = 0;
  #latencies;
  #count = 0;

  constructor(expected) {
    this.#latencies = new Float64Array(Math.max(1024, expected));
  }

  /** True when something was read. */
  read(fd) {
    const n = readSync(fd, this.#buf, this.#held, this.#buf.length - this.#held, this.#offset);
    if (n === 0) return false;
    const read = monotonicMs();
    this.#offset += n;
    const buf = this.#buf;
    const end = this.#held + n;
    let start = 0;
    let lf = buf.indexOf(LF, start);
    while (lf !== -1 && lf < end) {
      this.#note(start, lf, read);
      start = lf + 1;
      lf = buf.indexOf(LF, start);
    }
    buf.copy(buf, 0, start, end);
    this.#held = end - start;
    if (this.#held === buf.length) throw new Error('a line longer than the tail buffer');
    return true;
  }

  #note(start, lf, read) {
    const buf = this.#buf;
    // Every record has `t`; the app writes `warmup` right after it (bench/suite-latency-app.mjs).
    const key = buf.indexOf(T_KEY, start);
    if (key === -1 || key > lf) return;
    const t = parseDecimal(buf, key + T_KEY.length);
    const after = parsedEnd + 1;
    if (buf[parsedEnd] === 0x2c && buf.compare(WARMUP, 0, WARMUP.length, after, after + WARMUP.length) === 0)
      return;
    if (this.#count === this.#latencies.length) {
      const grown = new Float64Array(this.#latencies.length * 2);
      grown.set(this.#latencies);
      this.#latencies = grown;
    }
    this.#latencies[this.#count++] = read - t;
  }

  quantiles() {
    const latencies = this.#latencies.subarray(0, this.#count).sort();
    const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    return { p50: q(0.5), p99: q(0.99), max: latencies[latencies.length - 1], records: latencies.length };
  }
}

/** Where the last parseDecimal stopped (no object allocated per record). */
let parsedEnd = 0;

/** The unsigned decimal number (digits, an optional fraction) at `at`; sets parsedEnd. */
function parseDecimal(buf, at) {
  let value = 0;
  let i = at;
  for (; buf[i] >= 0x30 && buf[i] <= 0x39; i += 1) value = value * 10 + buf[i] - 0x30;
  if (buf[i] !== 0x2e) {
    parsedEnd = i;
    return value;
  }
  let scale = 0.1;
  for (i += 1; buf[i] >= 0x30 && buf[i] <= 0x39; i += 1) {
    value += (buf[i] - 0x30) * scale;
    scale /= 10;
  }
  parsedEnd = i;
  return value;
}
