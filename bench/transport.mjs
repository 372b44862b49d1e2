/**
 * The transports (issue #3): MB/s (10^6 bytes) and messages/s of a Messenger over each
 * transport, from the first send until the receiver has decoded the last message, for 256 KiB
 * EVENTS bodies and for small messages (ACK seq=N); and the same byte stream through the same
 * transport without the codec (a raw socket, WebSocket or datagram), as the ceiling.
 *
 *   npm run build && node bench/transport.mjs
 *   LOGWIRE_DIST=/tmp/lw-dist node bench/transport.mjs          (a build elsewhere)
 *   node bench/transport.mjs --inline --only tcp,udp --cases small --kinds codec
 *     (receiver in this process; some transports; small messages only; without the raw ceiling)
 *
 * The receiving side runs in a child process (--inline: in this one). On 2 cores that is the
 * truer number: the appender and the collector are two processes, so sending and decoding
 * overlap; inline, one thread pays for both and the rate is their sum of costs per byte. Inline
 * UDP measures nothing: a dgram send completes on nextTick, so a sender waiting for 'drain'
 * never yields to the event loop and the receiver reads only after the run.
 *
 *   per case: connect ─▶ warm-up ─▶ calibrate N for ~LOGWIRE_BENCH_MS ─▶ 3 runs of N ─▶ median
 *
 * A run sends N messages respecting backpressure (send() false → wait 'drain') and ends at the
 * receiver's clock reading of its last message (process.hrtime is CLOCK_MONOTONIC, the same
 * clock in both processes). UDP carries one message per datagram, so its bodies are 8 KiB, and
 * it may drop: a run ends when all arrived or nothing came for 300 ms, and the share delivered
 * is reported. Raw and codec runs of a case alternate, so a load that drifts (2 shared cores)
 * slows both alike; the cpu column (user + system time of both processes per message) is the
 * steadier measure of what each costs.
 */

import { fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, connect as netConnect } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket, WebSocketServer } from 'ws';
import { selfSignedCert } from '../test/helpers/self-signed-cert.mjs';
import { check, DIST, load } from './measure.mjs';

const { connectLink } = await load('shared/net/connect.js');
const { listen } = await load('shared/net/listener.js');
const { Messenger } = await load('shared/net/messenger.js');
const { parseAddress, formatAddress } = await load('shared/protocol/address.js');
const { WS_HIGH_WATER_MARK } = await load('shared/net/links/ws-link.js');
const { UDP_HIGH_WATER_MARK } = await load('shared/net/links/udp-link.js');
const { message } = await load('shared/protocol/message.js');
const { encodeMessage, encodeMessageToBuffer } = await load('shared/protocol/encode.js');

const TRANSPORTS = ['tcp', 'tls', 'unix', 'ws', 'wss', 'udp'];
const SECURE = new Set(['tls', 'wss']);
/** Milliseconds per timed run (default 2000). */
const RUN_MS = Number(process.env.LOGWIRE_BENCH_MS ?? 2000);
const RUNS = 3;
const RUN_TIMEOUT_MS = 60_000;
const UDP_QUIET_MS = 300;
/** Fixed-width sequence numbers, so every line of a case has the same length. */
const SEQ0 = 10_000_000;

// ── the receiving side ───────────────────────────────────────────────────────────────────────

/** Counts what arrives, for one run at a time. Runs here (--inline) or in the child. */
class Sink {
  messages = 0;
  bytes = 0;
  lastAt = 0n;
  cpuAtReset = undefined;
  /** Every arrival is timed only while waiting for quiet (UDP): hrtime per message costs. */
  timeEach = false;
  waiter = undefined;
  /** How to close each open server, by kind ('raw', 'codec'). */
  closers = new Map();

  count(messages, bytes) {
    this.messages += messages;
    this.bytes += bytes;
    if (this.timeEach) this.lastAt = process.hrtime.bigint();
    const w = this.waiter;
    if (w !== undefined && (this.messages >= w.messages || this.bytes >= w.bytes)) {
      this.lastAt = process.hrtime.bigint();
      this.finish();
    }
  }

  reset() {
    this.messages = 0;
    this.bytes = 0;
    this.lastAt = 0n;
    this.cpuAtReset = process.cpuUsage();
  }

  /** Resolves when `messages` or `bytes` have arrived, or (quiet) nothing came for a while. */
  waitFor({ messages = Infinity, bytes = Infinity, quiet = false }) {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      let seen = -1;
      const timer = setInterval(
        () => {
          if (quiet && this.messages > 0 && this.messages === seen) this.finish();
          else if (Date.now() - started > RUN_TIMEOUT_MS) {
            clearInterval(timer);
            this.waiter = undefined;
            reject(
              new Error(
                `receiver: ${this.messages} messages, ${this.bytes} bytes after ${RUN_TIMEOUT_MS} ms`,
              ),
            );
          }
          seen = this.messages;
        },
        quiet ? UDP_QUIET_MS : 1000,
      );
      this.timeEach = quiet;
      this.waiter = { messages, bytes, resolve, timer };
      this.count(0, 0);
    });
  }

  finish() {
    const w = this.waiter;
    this.waiter = undefined;
    this.timeEach = false;
    clearInterval(w.timer);
    const cpu = process.cpuUsage(this.cpuAtReset);
    w.resolve({
      messages: this.messages,
      bytes: this.bytes,
      lastAt: String(this.lastAt),
      cpuMicros: cpu.user + cpu.system,
    });
  }

  /** Listens for `kind` 'codec' (logwire's listener + Messenger) or 'raw'; returns where. */
  async open({ kind, scheme, dir, certFile, keyFile }) {
    const tls = SECURE.has(scheme) ? { cert: readFileSync(certFile), key: readFileSync(keyFile) } : undefined;
    const unixPath = join(dir, `${kind}.sock`);
    return kind === 'codec' ? this.openCodec(scheme, tls, unixPath) : this.openRaw(scheme, tls, unixPath);
  }

  async openCodec(scheme, tls, unixPath) {
    const address = parseAddress(scheme === 'unix' ? `unix/${unixPath}` : `${scheme}/127.0.0.1:0`);
    const listener = await listen(address, { tls }, (link) => {
      const messenger = new Messenger(link, { replies: scheme !== 'udp' });
      messenger.on('message', (msg) => this.count(1, msg.body === undefined ? 0 : msg.body.length));
      messenger.on('protocolError', (err) => console.error(`receiver: ${err.message}`));
    });
    this.closers.set('codec', () => listener.close());
    return formatAddress(listener.address);
  }

  async openRaw(scheme, tls, unixPath) {
    if (scheme === 'udp') {
      const socket = createSocket('udp4');
      socket.on('message', (datagram) => this.count(1, datagram.length));
      socket.bind(0, '127.0.0.1');
      await once(socket, 'listening');
      this.closers.set('raw', () => new Promise((done) => socket.close(done)));
      return { host: '127.0.0.1', port: socket.address().port };
    }
    const sockets = new Set();
    const track = (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    };
    let server;
    if (scheme === 'ws' || scheme === 'wss') {
      server = scheme === 'wss' ? createHttpsServer(tls) : createHttpServer();
      server.on('connection', track);
      const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
      wss.on('connection', (ws) => {
        ws.on('message', (data) => this.count(1, data.length));
        ws.on('error', () => {});
      });
    } else {
      const onSocket = (socket) => {
        track(socket);
        socket.on('data', (chunk) => this.count(0, chunk.length));
        socket.on('error', () => {});
      };
      server = scheme === 'tls' ? createTlsServer(tls, onSocket) : createNetServer(onSocket);
      if (scheme === 'tls') server.on('connection', track);
    }
    if (scheme === 'unix') server.listen(unixPath);
    else server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    this.closers.set(
      'raw',
      () =>
        new Promise((done) => {
          server.close(() => done());
          for (const socket of sockets) socket.destroy();
        }),
    );
    return scheme === 'unix' ? { path: unixPath } : { host: '127.0.0.1', port: server.address().port };
  }

  async close() {
    const closing = [...this.closers.values()].map((close) => close());
    this.closers.clear();
    await Promise.all(closing);
  }
}

/** The Sink's methods, answered over the IPC channel. */
function serveSink() {
  const sink = new Sink();
  process.on('message', async ({ id, op, arg }) => {
    try {
      process.send({ id, result: await sink[op](arg) });
    } catch (err) {
      process.send({ id, error: String(err?.stack ?? err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

/** A Sink in a child process, with the same (async) methods. */
function remoteSink() {
  const child = fork(fileURLToPath(import.meta.url), ['--receiver'], { stdio: 'inherit' });
  const calls = new Map();
  let next = 0;
  child.on('message', ({ id, result, error }) => {
    const call = calls.get(id);
    calls.delete(id);
    if (error === undefined) call.resolve(result);
    else call.reject(new Error(error));
  });
  const call = (op, arg) =>
    new Promise((resolve, reject) => {
      const id = next++;
      calls.set(id, { resolve, reject });
      child.send({ id, op, arg });
    });
  return {
    open: (spec) => call('open', spec),
    reset: () => call('reset'),
    waitFor: (target) => call('waitFor', target),
    close: () => call('close'),
    end: () => child.disconnect(),
  };
}

// ── the sending side ─────────────────────────────────────────────────────────────────────────

/** Resolves on 'drain', rejects if the emitter closes first (a run never hangs on a dead link). */
function drainOf(emitter) {
  return () =>
    new Promise((resolve, reject) => {
      const onDrain = () => {
        emitter.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        emitter.off('drain', onDrain);
        reject(new Error('the link closed during a run'));
      };
      emitter.once('drain', onDrain);
      emitter.once('close', onClose);
    });
}

/** Deterministic pino-shaped lines of ~220 bytes, whole ones up to `limit` bytes. */
function recordsBody(limit) {
  const lines = [];
  let size = 0;
  for (let i = 0; ; i++) {
    const line = `${JSON.stringify({
      level: i % 10 === 0 ? 40 : 30,
      time: 1732370000000 + i * 3,
      pid: 4242,
      hostname: 'web-01',
      reqId: `req-${(1e6 + i).toString(36)}`,
      req: { method: i % 3 === 0 ? 'POST' : 'GET', url: '/api/orders' },
      res: { statusCode: i % 20 === 0 ? 503 : 200 },
      responseTime: (i * 7919) % 2500,
      msg: 'request completed',
    })}\n`;
    if (size + line.length > limit) break;
    lines.push(line);
    size += line.length;
  }
  return { body: Buffer.from(lines.join(''), 'utf8'), count: lines.length };
}

/** What one case sends: its n-th message, and the same bytes pre-encoded for the raw ceiling. */
function payload(scheme, size) {
  const udp = scheme === 'udp';
  if (size === 'small') {
    const make = (i) => message('ACK', { seq: SEQ0 + i });
    return { label: 'small ACK', make, initial: 20_000, max: 5_000_000 };
  }
  const { body, count } = recordsBody(udp ? 8 * 1024 : 256 * 1024);
  // PROTOCOL.md §7: a datagram says who sends it.
  const who = udp ? { source: 'web-01.3f9c2a7e', service: 'checkout-api', host: 'web-01' } : {};
  const make = (i) => message('EVENTS', { seq: SEQ0 + i * count, count, ...who }, body);
  const label = udp ? '8KiB body' : '256KiB body';
  return { label, make, body, initial: udp ? 2000 : 64, max: udp ? 2_000_000 : 50_000 };
}

/** A client that sends message i: a Messenger over connectLink, or a raw socket. */
async function openClient(kind, scheme, where, cargo, ca) {
  if (kind === 'codec') {
    const link = await connectLink(parseAddress(where), { tls: { ca } });
    const messenger = new Messenger(link);
    return {
      send: (i) => messenger.send(cargo.make(i)),
      drained: drainOf(messenger),
      close: () => messenger.close(),
    };
  }
  const first = cargo.make(0);
  const parts = encodeMessage(first);
  const whole = encodeMessageToBuffer(first);
  if (scheme === 'udp') return rawUdp(where, whole);
  if (scheme === 'ws' || scheme === 'wss') return rawWs(scheme, where, whole, ca);
  let socket;
  if (scheme === 'unix') socket = netConnect({ path: where.path });
  else if (scheme === 'tls') socket = tlsConnect({ host: where.host, port: where.port, ca });
  else socket = netConnect({ host: where.host, port: where.port });
  await once(socket, scheme === 'tls' ? 'secureConnect' : 'connect');
  socket.on('error', () => {}); // the server destroys its end when a case is over
  if (scheme !== 'unix') socket.setNoDelay(true);
  // The same writes SocketLink makes: line and body corked into one writev, the first message
  // of a tick at once, the tick's later ones together when it ends.
  let batching = false;
  const endBatch = () => {
    batching = false;
    socket.uncork();
  };
  return {
    send: () => {
      const first = !batching;
      if (first) socket.cork();
      let room = true;
      for (const part of parts) room = socket.write(part);
      if (first) {
        socket.uncork();
        batching = true;
        socket.cork();
        process.nextTick(endBatch);
      }
      return room;
    },
    drained: drainOf(socket),
    close: () => socket.end(),
  };
}

/** ws.send of the pre-encoded message; backpressure on bufferedAmount, as WsLink does. */
async function rawWs(scheme, where, whole, ca) {
  const ws = new WebSocket(`${scheme}://${where.host}:${where.port}/`, { perMessageDeflate: false, ca });
  await once(ws, 'open');
  ws.on('error', () => {});
  let waiting;
  const onSent = () => {
    if (waiting !== undefined && ws.bufferedAmount < WS_HIGH_WATER_MARK) {
      const resume = waiting;
      waiting = undefined;
      resume();
    }
  };
  return {
    send: () => {
      ws.send(whole, { binary: true, compress: false }, onSent);
      return ws.bufferedAmount < WS_HIGH_WATER_MARK;
    },
    drained: () => new Promise((resolve) => (waiting = resolve)),
    close: () => ws.close(),
  };
}

/** One pre-encoded datagram per message; backpressure on bytes not yet sent, as UdpLink does. */
async function rawUdp(where, whole) {
  const socket = createSocket('udp4');
  socket.connect(where.port, where.host);
  await once(socket, 'connect');
  socket.on('error', () => {}); // ICMP port unreachable once the case is over
  let pending = 0;
  let waiting;
  const onSent = () => {
    pending -= whole.length;
    if (waiting !== undefined && pending < UDP_HIGH_WATER_MARK / 2) {
      const resume = waiting;
      waiting = undefined;
      resume();
    }
  };
  return {
    send: () => {
      pending += whole.length;
      socket.send(whole, onSent);
      return pending < UDP_HIGH_WATER_MARK;
    },
    drained: () => new Promise((resolve) => (waiting = resolve)),
    close: () => socket.close(),
  };
}

/**
 * Sends n messages and waits for the receiver. Rates are per second up to the receiver's last
 * arrival; CPU is both processes' user + system time over the run, per message.
 */
async function runOnce(sink, side, n) {
  const { client, wireBytes, target } = side;
  await sink.reset();
  const arrived = sink.waitFor(target(n));
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (!client.send(i)) await client.drained();
  const got = await arrived;
  const ownCpu = process.cpuUsage(cpu);
  const seconds = Number(BigInt(got.lastAt) - start) / 1e9;
  const messages = got.messages > 0 ? got.messages : Math.round(got.bytes / wireBytes);
  // Inline, the receiver's CPU is already in this process's.
  const cpuMicros = ownCpu.user + ownCpu.system + (sink.inline ? 0 : got.cpuMicros);
  return {
    msgs: messages / seconds,
    mbs: (messages * wireBytes) / seconds / 1e6,
    delivered: messages / n,
    cpuPerMsg: cpuMicros / messages,
  };
}

/** One side of a case: a server in the sink, a client here, and N for ~RUN_MS, found by warming up. */
async function openSide(sink, sinkSpec, ca, kind, scheme, size) {
  const cargo = payload(scheme, size);
  const wireBytes = encodeMessageToBuffer(cargo.make(0)).length;
  const where = await sink.open({ kind, scheme, ...sinkSpec });
  const client = await openClient(kind, scheme, where, cargo, ca);
  // Raw streams have no messages on the receiving side, only bytes; UDP may never complete.
  const target = (n) =>
    scheme === 'udp'
      ? { messages: n, quiet: true }
      : kind === 'raw' && scheme !== 'ws' && scheme !== 'wss'
        ? { bytes: n * wireBytes }
        : { messages: n };
  const side = { kind, cargo, wireBytes, client, target, runs: [] };
  const warm = await runOnce(sink, side, cargo.initial);
  const sized = (rate, ms) => Math.max(cargo.initial, Math.min(cargo.max, Math.round((rate * ms) / 1000)));
  side.n = sized((await runOnce(sink, side, sized(warm.msgs, RUN_MS / 4))).msgs, RUN_MS);
  // Every message of a run has the same length (fixed-width seq), so MB/s is exact.
  check(encodeMessageToBuffer(cargo.make(side.n - 1)).length === wireBytes, 'fixed-width lines');
  return side;
}

/**
 * Raw and codec of one transport and size, their runs interleaved (raw, codec, raw, …) so a
 * machine whose load drifts slows both alike and the ratio holds; the median run of each.
 */
async function runCase(sink, sinkSpec, ca, kinds, scheme, size) {
  const sides = [];
  try {
    for (const kind of kinds) sides.push(await openSide(sink, sinkSpec, ca, kind, scheme, size));
    for (let r = 0; r < RUNS; r++) {
      for (const side of sides) side.runs.push(await runOnce(sink, side, side.n));
    }
  } finally {
    for (const side of sides) side.client.close();
    await sink.close();
  }
  const result = {};
  for (const side of sides) {
    const runs = side.runs.sort((a, b) => a.msgs - b.msgs);
    result[side.kind] = { ...runs[Math.floor(RUNS / 2)], n: side.n, label: side.cargo.label };
  }
  return result;
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const ONE = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

function line(transport, result, raw) {
  const ratio = raw === undefined ? '(raw: no codec)' : `(${(result.msgs / raw.msgs).toFixed(2)} of raw)`;
  const delivered = transport.startsWith('udp') ? `  delivered ${(result.delivered * 100).toFixed(1)}%` : '';
  const cpu = result.cpuPerMsg < 10 ? result.cpuPerMsg.toFixed(2) : NUMBER.format(result.cpuPerMsg);
  console.log(
    `${transport.padEnd(9)} ${result.label.padEnd(12)} ${ONE.format(result.mbs).padStart(9)} MB/s ` +
      `${NUMBER.format(result.msgs).padStart(11)} msg/s  ${ratio.padEnd(16)}` +
      `cpu ${cpu.padStart(6)} µs/msg${delivered}`,
  );
}

async function main() {
  const { values } = parseArgs({
    options: {
      inline: { type: 'boolean', default: false },
      only: { type: 'string', default: TRANSPORTS.join(',') },
      cases: { type: 'string', default: 'big,small' },
      kinds: { type: 'string', default: 'raw,codec' },
    },
  });
  const transports = values.only.split(',').filter((t) => TRANSPORTS.includes(t));
  const sizes = values.cases.split(',').filter((c) => c === 'big' || c === 'small');
  const kinds = ['raw', 'codec'].filter((k) => values.kinds.split(',').includes(k));
  const dir = mkdtempSync(join(tmpdir(), 'lw-bench-transport-'));
  const { certFile, keyFile, cert: ca } = selfSignedCert(dir);
  const sinkSpec = { dir, certFile, keyFile };
  const sink = values.inline ? Object.assign(new Sink(), { inline: true }) : remoteSink();
  const began = Date.now();
  const udpInline = values.inline && transports.includes('udp');
  console.log('# transport (shared/net): Messenger over connectLink → listen, vs the same bytes raw');
  console.log(
    `# node ${process.version}, ${availableParallelism()} cpus, ${new Date().toISOString()}, ` +
      `dist ${DIST.pathname}, receiver ${values.inline ? 'in this process' : 'in a child process'}, ` +
      `${RUNS} runs of ~${RUN_MS} ms each, raw and codec interleaved, median`,
  );
  console.log(
    '# MB/s = 10^6 wire bytes (line + body) per second; cpu = user + system time of sender and ' +
      'receiver per message',
  );
  try {
    for (const scheme of transports) {
      for (const size of sizes) {
        const { raw, codec } =
          (await runCase(sink, sinkSpec, ca, kinds, scheme, size).catch(fail(scheme, size))) ?? {};
        if (raw !== undefined) line(`${scheme}-raw`, raw);
        if (codec !== undefined) line(scheme, codec, raw);
      }
    }
  } finally {
    sink.end?.();
    rmSync(dir, { recursive: true, force: true });
  }
  if (udpInline) console.log("# inline udp: the receiver starves until the sender is done; don't trust it");
  console.log(`# ${((Date.now() - began) / 1000).toFixed(0)} s`);
}

function fail(scheme, size) {
  return (err) => {
    console.error(`${scheme} ${size}: ${err.stack ?? err}`);
    process.exitCode = 1;
    return undefined;
  };
}

if (process.argv.includes('--receiver')) serveSink();
else await main();
