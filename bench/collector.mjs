/**
 * The collector end to end (issue #5), every server a child process on loopback, the load
 * generated here from one pre-built input:
 *
 *   (a) EVENTS ingest: REGISTER, then EVENTS batches of BATCH pino-like records (~200 bytes)
 *       pipelined within a 4 MiB window (the appender's default), until the final ACK, over 1
 *       and over SESSIONS sessions → lines/s and MB/s, beside a no-parsing sink (a plain net
 *       server in a child that only counts the same bytes: the ceiling of loopback + one Node
 *       process);
 *   (b) ndjson: the same records as raw NDJSON to the collector's ndjson listener and to
 *       rsyslog (imtcp → omfile, %rawmsg%), timed until the output file holds every byte.
 *
 * Runs alternate (collector, sink/rsyslog, collector, …) so a noisy machine hurts both alike;
 * medians are reported. Each run gets a fresh process and a fresh output directory (start-up
 * is not timed). "Server CPU" is the user + system time of the server process (all its
 * threads) during the run, per million lines: steadier than rates when the machine is shared.
 *
 *   npm run build && node bench/collector.mjs
 *   LOGWIRE_BENCH_LINES=200000 LOGWIRE_BENCH_RUNS=1 node bench/collector.mjs   (a quick check)
 *   LOGWIRE_DIST=/tmp/lw-dist node bench/collector.mjs                          (a build elsewhere)
 *   LOGWIRE_BENCH_ONLY=ndjson LOGWIRE_BENCH_PROFILE=/tmp/prof node bench/collector.mjs
 *       (one part only; the collector runs under node --cpu-prof, a .cpuprofile per run)
 *
 * The first run of a process is slower for whichever case goes first (this process's own code
 * is not yet optimised), so the order alternates too: logwire first in even runs, the peer
 * first in odd ones (LOGWIRE_BENCH_ROUND shifts the count, for the suite's one-run rounds).
 *
 * Env: LOGWIRE_BENCH_LINES (1,000,000), LOGWIRE_BENCH_RUNS (5 of each case),
 * LOGWIRE_BENCH_SESSIONS (4), LOGWIRE_BENCH_ONLY (events,ndjson), LOGWIRE_BENCH_RSYSLOG_TUNED.
 * Needs rsyslogd on the PATH (or env RSYSLOGD) for (b); without it (b) runs the collector only.
 */

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST, processCpuMs, random } from './measure.mjs';

const LINES = Number(process.env.LOGWIRE_BENCH_LINES ?? 1_000_000);
const RUNS = Number(process.env.LOGWIRE_BENCH_RUNS ?? 5);
const SESSIONS = Number(process.env.LOGWIRE_BENCH_SESSIONS ?? 4);
const BATCH = 1000;
const WINDOW = 4 * 1024 * 1024;
const CHUNK = 1024 * 1024;
const TIMEOUT_MS = 60_000;
const RSYSLOGD = process.env.RSYSLOGD ?? 'rsyslogd';
/**
 * rsyslog runs with Debian's defaults for omfile (a 4 KiB buffer, flushed at the end of each
 * batch it dequeues); LOGWIRE_BENCH_RSYSLOG_TUNED=1 gives it a 256 KiB buffer (fewer writes).
 */
const RSYSLOG_TUNING = process.env.LOGWIRE_BENCH_RSYSLOG_TUNED === '1' ? ' ioBufferSize="256k"' : '';
const MAIN = fileURLToPath(new URL('collector/cli/main.js', DIST));
/** A directory to write the collector's CPU profiles in (node --cpu-prof), one per run. */
const PROFILE_DIR = process.env.LOGWIRE_BENCH_PROFILE;
const NODE_FLAGS = PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [];

// ---------------------------------------------------------------- input

const MESSAGES = ['request completed', 'incoming request', 'cache miss, loading from the database'];
const ROUTES = ['/api/orders', '/api/users/me', '/health', '/api/cart/items', '/api/search?q=shoes'];

/** `count` pino-like records, ~200 bytes each, one Buffer; and each line's end offset. */
function records(count) {
  const rnd = random(42);
  const lines = [];
  for (let n = 1; n <= count; n++) {
    const route = ROUTES[Math.floor(rnd() * ROUTES.length)];
    const msg = MESSAGES[Math.floor(rnd() * MESSAGES.length)];
    lines.push(
      JSON.stringify({
        level: 30,
        time: 1795000000000 + n,
        pid: 4242,
        hostname: 'bench-host-01',
        reqId: `req-${n.toString(36).padStart(8, '0')}`,
        req: { method: 'GET', url: route },
        responseTime: Math.round(rnd() * 1e5) / 100,
        n,
        msg,
      }),
    );
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** Line boundaries: end offset (after the LF) of every BATCH-th line, and the last. */
function batchEnds(data) {
  const ends = [];
  let lines = 0;
  for (let at = data.indexOf(10); at !== -1; at = data.indexOf(10, at + 1)) {
    lines += 1;
    if (lines % BATCH === 0) ends.push(at + 1);
  }
  if (ends.at(-1) !== data.length) ends.push(data.length);
  return { lines, ends };
}

/**
 * The EVENTS stream of `sessions` sessions over the input: each session its own source, its
 * batches taken round-robin; frames are [header, body view] pairs (no copies).
 */
function sessionStreams(data, ends, sessions) {
  const streams = Array.from({ length: sessions }, (_, i) => ({
    register: Buffer.from(`REGISTER version=1;source=bench-${i};service=bench;host=bench-host;next=1\n`),
    frames: [],
    last: 0,
    bytes: 0,
  }));
  let from = 0;
  ends.forEach((end, b) => {
    const s = streams[b % sessions];
    const body = data.subarray(from, end);
    let count = 0;
    for (let at = body.indexOf(10); at !== -1; at = body.indexOf(10, at + 1)) count += 1;
    const header = Buffer.from(`EVENTS seq=${s.last + 1};count=${count};bytes=${body.length}\n`);
    s.frames.push({ header, body, last: s.last + count });
    s.last += count;
    s.bytes += header.length + body.length;
    from = end;
  });
  return streams;
}

// ---------------------------------------------------------------- children

function tempDir(name) {
  return mkdtempSync(join(tmpdir(), `lw-bench-${name}-`));
}

function deadline(what) {
  return new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`${what}: no answer in ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref(),
  );
}

/** Spawns the collector; resolves to its ports once it prints its `listening` lines. */
async function startCollector(dir) {
  const child = spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      MAIN,
      'collector',
      '--listen',
      'tcp/127.0.0.1:0',
      '--listen',
      'ndjson/127.0.0.1:0',
      '--output',
      join(dir, 'out'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  const ports = {};
  child.stderr.setEncoding('utf8');
  await Promise.race([
    new Promise((resolve, reject) => {
      child.stderr.on('data', (text) => {
        err += text;
        for (const m of err.matchAll(/listening (\w+)\/127\.0\.0\.1:(\d+)/g)) ports[m[1]] = Number(m[2]);
        if (ports.tcp && ports.ndjson) resolve();
      });
      child.once('exit', (code) => reject(new Error(`collector exited (${code}) before listening:\n${err}`)));
    }),
    deadline('collector start'),
  ]);
  return { child, ports, file: join(dir, 'out', 'ndjson.log'), dir: join(dir, 'out'), stderr: () => err };
}

/** A plain net server that counts bytes and, once `total` have come, says `D` on every link. */
const SINK = `
import net from 'node:net';
const total = Number(process.argv[1]);
let got = 0;
const links = new Set();
const server = net.createServer((socket) => {
  links.add(socket);
  socket.on('data', (chunk) => {
    got += chunk.length;
    if (got === total) for (const link of links) link.write('D');
  });
  socket.on('error', () => {});
  socket.on('close', () => links.delete(socket));
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

async function startSink(total) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SINK, String(total)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.setEncoding('utf8');
  const [line] = await Promise.race([once(child.stdout, 'data'), deadline('sink start')]);
  return { child, port: Number(line.trim()) };
}

async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** rsyslogd in the foreground, its own config: imtcp only → omfile with the raw line. */
async function startRsyslog(dir) {
  const port = await freePort();
  const work = join(dir, 'work');
  const file = join(dir, 'out.log');
  spawnSync('mkdir', ['-p', work]);
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    [
      `global(workDirectory="${work}")`,
      'module(load="imtcp")',
      'template(name="raw" type="string" string="%rawmsg%\\n")',
      `ruleset(name="bench") { action(type="omfile" file="${file}" template="raw"${RSYSLOG_TUNING}) }`,
      `input(type="imtcp" port="${port}" address="127.0.0.1" ruleset="bench")`,
      '',
    ].join('\n'),
  );
  const child = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => {
    err += text;
  });
  // Ready once imtcp accepts a connection (the probe sends nothing, so nothing is logged).
  const until = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`rsyslogd exited (${child.exitCode}):\n${err}`);
    try {
      const socket = net.connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.destroy();
      break;
    } catch {
      if (Date.now() > until) throw new Error(`rsyslogd did not listen on ${port}:\n${err}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return { child, port, file };
}

/** Shows what a collector warned about during a run (a clean run says nothing). */
function complaints(collector) {
  const bad = collector
    .stderr()
    .split('\n')
    .filter((line) => / (WARN|ERROR) /.test(line));
  if (bad.length > 0)
    console.error(`collector: ${bad.length} warnings/errors, first: ${bad.slice(0, 3).join('\n')}`);
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await once(child, 'exit');
  clearTimeout(timer);
}

// ---------------------------------------------------------------- load

async function connect(port) {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await Promise.race([once(socket, 'connect'), deadline(`connect ${port}`)]);
  return socket;
}

/** Writes `buffers` with the socket's backpressure; `gate` may hold a frame back (the window). */
async function pump(socket, frames, gate) {
  for (const frame of frames) {
    if (gate !== undefined) await gate(frame);
    socket.cork();
    socket.write(frame.header);
    const more = socket.write(frame.body);
    socket.uncork();
    if (!more) await once(socket, 'drain');
  }
}

/** Reads reply lines (READY, ACK, PAUSE…) from a session socket. */
function replies(socket, onLine) {
  let rest = '';
  socket.setEncoding('latin1');
  socket.on('data', (text) => {
    rest += text;
    let lf = rest.indexOf('\n');
    while (lf !== -1) {
      onLine(rest.slice(0, lf));
      rest = rest.slice(lf + 1);
      lf = rest.indexOf('\n');
    }
  });
}

/** One session to the collector: REGISTER, READY, frames within the window, final ACK. */
async function session(port, stream) {
  const socket = await connect(port);
  let acked = 0;
  let paused = false;
  let wake = () => {};
  let ready;
  const readied = new Promise((resolve) => {
    ready = resolve;
  });
  replies(socket, (line) => {
    const cmd = line.split(' ', 1)[0];
    if (cmd === 'READY') ready();
    else if (cmd === 'ACK') acked = Number(/seq=(\d+)/.exec(line)[1]);
    else if (cmd === 'PAUSE') paused = true;
    else if (cmd === 'UNPAUSE') paused = false;
    else throw new Error(`collector said: ${line}`);
    wake();
  });
  const closed = once(socket, 'close').then(() => {
    throw new Error(`session ${stream.register} closed by the collector`);
  });
  socket.write(stream.register);
  await Promise.race([readied, closed, deadline('READY')]);
  const waitFor = (test) =>
    test()
      ? undefined
      : Promise.race([
          new Promise((resolve) => {
            wake = () => {
              if (test()) resolve();
            };
          }),
          closed,
        ]);
  // Window in bytes of unacknowledged bodies, as the appender keeps it.
  const inflight = [];
  let inflightBytes = 0;
  const gate = async (frame) => {
    const trim = () => {
      while (inflight.length > 0 && inflight[0].last <= acked) inflightBytes -= inflight.shift().body.length;
      return !paused && inflightBytes + frame.body.length <= Math.max(WINDOW, frame.body.length);
    };
    if (!trim()) await waitFor(trim);
    inflight.push(frame);
    inflightBytes += frame.body.length;
  };
  return {
    run: async () => {
      await pump(socket, stream.frames, gate);
      await waitFor(() => acked >= stream.last);
    },
    close: () => socket.destroy(),
  };
}

/** CPU seconds (user + system, all threads) a child has used so far; Linux /proc only. */
function cpuSeconds(pid) {
  return processCpuMs(pid) / 1000;
}

/** Starts a run's clocks: wall time, and the server child's CPU time. */
function clock(child) {
  const wall = performance.now();
  const cpu = cpuSeconds(child.pid);
  return (lines, bytes) => {
    const s = (performance.now() - wall) / 1000;
    return { lines: lines / s, mb: bytes / 1e6 / s, cpu: (cpuSeconds(child.pid) - cpu) / (lines / 1e6) };
  };
}

async function eventsCollector(input, streams) {
  const dir = tempDir('events');
  const collector = await startCollector(dir);
  try {
    const sessions = await Promise.all(streams.map((s) => session(collector.ports.tcp, s)));
    const done = clock(collector.child);
    await Promise.race([Promise.all(sessions.map((s) => s.run())), deadline('EVENTS run')]);
    const result = done(input.lines, input.data.length);
    for (const s of sessions) s.close();
    const size = statSync(join(collector.dir, 'bench.log')).size;
    if (size !== input.data.length)
      throw new Error(`bench.log holds ${size} bytes, not ${input.data.length}`);
    return result;
  } finally {
    await stop(collector.child);
    complaints(collector);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function eventsSink(input, streams) {
  const total = streams.reduce((sum, s) => sum + s.register.length + s.bytes, 0);
  const sink = await startSink(total);
  try {
    const sockets = await Promise.all(streams.map(() => connect(sink.port)));
    const done = Promise.race([once(sockets[0], 'data'), deadline('sink run')]);
    const finish = clock(sink.child);
    await Promise.all(
      streams.map((s, i) => {
        sockets[i].write(s.register);
        return pump(sockets[i], s.frames);
      }),
    );
    await done;
    const result = finish(input.lines, input.data.length);
    for (const socket of sockets) socket.destroy();
    return result;
  } finally {
    await stop(sink.child);
  }
}

/** Sends the NDJSON input and polls `file` until it holds every byte. */
async function ndjsonRun(child, port, file, data, lines) {
  const socket = await connect(port);
  const done = clock(child);
  const start = performance.now();
  const frames = [];
  for (let at = 0; at < data.length; at += CHUNK) {
    frames.push({ header: Buffer.alloc(0), body: data.subarray(at, Math.min(at + CHUNK, data.length)) });
  }
  const sent = pump(socket, frames).then(() => socket.end());
  const until = start + TIMEOUT_MS;
  let size = 0;
  while (size < data.length) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    try {
      size = statSync(file).size;
    } catch {}
    if (performance.now() > until) throw new Error(`${file}: ${size} of ${data.length} bytes after timeout`);
  }
  const result = done(lines, data.length);
  await sent;
  socket.destroy();
  if (size !== data.length) throw new Error(`${file} holds ${size} bytes, not ${data.length}`);
  return result;
}

async function ndjsonCollector(input) {
  const dir = tempDir('ndjson');
  const collector = await startCollector(dir);
  try {
    return await ndjsonRun(collector.child, collector.ports.ndjson, collector.file, input.data, input.lines);
  } finally {
    await stop(collector.child);
    complaints(collector);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function ndjsonRsyslog(input) {
  const dir = tempDir('rsyslog');
  const rsyslog = await startRsyslog(dir);
  try {
    return await ndjsonRun(rsyslog.child, rsyslog.port, rsyslog.file, input.data, input.lines);
  } finally {
    await stop(rsyslog.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- report

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const fmt1 = (n) => n.toFixed(1);

function row(name, results) {
  const lines = median(results.map((r) => r.lines));
  const mb = median(results.map((r) => r.mb));
  const cpu = median(results.map((r) => r.cpu));
  const runs = results.map((r) => fmt(r.lines)).join(', ');
  console.log(`| ${name} | ${fmt(lines)} | ${fmt1(mb)} | ${cpu.toFixed(2)} | ${runs} |`);
  return lines;
}

function hasRsyslog() {
  const probe = spawnSync(RSYSLOGD, ['-v'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.split('\n')[0] : undefined;
}

const data = records(LINES);
const { lines, ends } = batchEnds(data);
const input = { data, lines };
const rsyslogVersion = hasRsyslog();
const only = process.env.LOGWIRE_BENCH_ONLY ?? 'events,ndjson';
const ROUND = Number(process.env.LOGWIRE_BENCH_ROUND ?? 0);
/** Runs the two cases of run `i`, logwire's first in even runs and the peer's in odd ones. */
async function inTurn(i, ours, peer) {
  if ((i + ROUND) % 2 === 0) return [await ours(), await peer()];
  const theirs = await peer();
  return [await ours(), theirs];
}

console.log(
  `# collector bench: ${fmt(lines)} lines, ${fmt1(data.length / 1e6)} MB (${Math.round(data.length / lines)} B/line), ${RUNS} runs each, alternating`,
);
console.log(`node ${process.version}; ${rsyslogVersion ?? 'rsyslogd not found'}\n`);
console.log(
  '| case | lines/s (median) | MB/s (median) | server CPU s per 10^6 lines | lines/s of each run |',
);
console.log('|---|---:|---:|---:|---|');

if (only.includes('events')) {
  const one = sessionStreams(data, ends, 1);
  const many = sessionStreams(data, ends, SESSIONS);
  const results = { c1: [], s1: [], cn: [], sn: [] };
  for (let i = 0; i < RUNS; i++) {
    const [c1, s1] = await inTurn(
      i,
      () => eventsCollector(input, one),
      () => eventsSink(input, one),
    );
    results.c1.push(c1);
    results.s1.push(s1);
    if (SESSIONS > 1) {
      const [cn, sn] = await inTurn(
        i,
        () => eventsCollector(input, many),
        () => eventsSink(input, many),
      );
      results.cn.push(cn);
      results.sn.push(sn);
    }
  }
  const c1 = row('EVENTS → collector → file, 1 session', results.c1);
  const s1 = row('EVENTS → no-parsing sink, 1 connection', results.s1);
  console.log(`| collector / sink, 1 session | ${(c1 / s1).toFixed(2)} | | | |`);
  if (SESSIONS > 1) {
    const cn = row(`EVENTS → collector → file, ${SESSIONS} sessions`, results.cn);
    const sn = row(`EVENTS → no-parsing sink, ${SESSIONS} connections`, results.sn);
    console.log(`| collector / sink, ${SESSIONS} sessions | ${(cn / sn).toFixed(2)} | | | |`);
  }
}

if (only.includes('ndjson')) {
  const results = { c: [], r: [] };
  for (let i = 0; i < RUNS; i++) {
    const rsyslog = () => (rsyslogVersion === undefined ? undefined : ndjsonRsyslog(input));
    const [c, r] = await inTurn(i, () => ndjsonCollector(input), rsyslog);
    results.c.push(c);
    if (r !== undefined) results.r.push(r);
  }
  const c = row('NDJSON → collector ndjson listener → file', results.c);
  if (rsyslogVersion !== undefined) {
    const r = row('NDJSON → rsyslog imtcp → omfile', results.r);
    console.log(`| **logwire / rsyslog** | **${(c / r).toFixed(2)}×** | | | target ≥ 2× |`);
  }
}
