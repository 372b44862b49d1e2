/**
 * The app of bench/appender.mjs (issue #4), one child process per run: a pino logger over one
 * transport, COUNT records logged in a tight loop, then a natural exit (pino ends the transport
 * and waits for its 'close'). At exit it prints one JSON line on stdout:
 *
 *   {"transport":…,"count":…,"emitMs":…,"loopStartNs":…,"loopEndNs":…,"maxRssKiB":…,"cpuUserMs":…,"cpuSystemMs":…,"mainCpuMs":…}
 *
 * mainCpuMs is the main thread's own CPU (Linux /proc; the rest of cpu*Ms is the transport's
 * worker, V8's GC helpers and libuv's pool).
 * loop*Ns are process.hrtime.bigint() readings (CLOCK_MONOTONIC, the same clock as the driver's).
 *
 * env: LW_BENCH_TRANSPORT  logwire | pino-socket | pino-socket-reconnect
 *      LW_BENCH_PORT       the collector's tcp listener (logwire) or ndjson listener (pino-socket)
 *      LW_BENCH_COUNT      records to log (default 1,000,000)
 *      LW_BENCH_OPTIONS    more logwire options, as JSON (default none: the defaults)
 *      LW_BENCH_TARGET     the logwire transport module (default 'logwire/appender', the
 *                          package's own export: dist/); an absolute path for another build
 *
 * Every record has the same length (fixed-width fields; pino's `time` is 13 digits for
 * centuries), so the driver can count records from the output file's size alone.
 */

import { readdirSync, readFileSync, writeSync } from 'node:fs';
import pino from 'pino';

const transport = process.env.LW_BENCH_TRANSPORT ?? 'logwire';
const port = Number(process.env.LW_BENCH_PORT);
const count = Number(process.env.LW_BENCH_COUNT ?? 1_000_000);
if (!Number.isInteger(port) || port <= 0) throw new Error('LW_BENCH_PORT: a port is needed');

function transportOptions() {
  if (transport === 'logwire') {
    return {
      target: process.env.LW_BENCH_TARGET || 'logwire/appender',
      options: { address: `tcp/127.0.0.1:${port}`, ...JSON.parse(process.env.LW_BENCH_OPTIONS || '{}') },
    };
  }
  const reconnect = transport === 'pino-socket-reconnect' ? { reconnect: true } : {};
  return { target: 'pino-socket', options: { address: '127.0.0.1', port, mode: 'tcp', ...reconnect } };
}

/**
 * LW_BENCH_MODE=inprocess: the transport's stream in the app's own thread, as pino documents for
 * a destination (`pino(await build(options))`), with no worker and no thread-stream between.
 */
const mode = process.env.LW_BENCH_MODE ?? 'worker';
const inProcess = mode === 'inprocess';
const destination =
  mode === 'worker' ? pino.transport(transportOptions()) : await openInThisThread(transportOptions());
const logger = pino({ name: 'billing' }, destination);

/**
 * The transport module's stream in this thread: its default export (in process), or, with
 * LW_BENCH_MODE=thread, logwire's own shipping thread (`createThreadedAppender`), no thread-stream.
 */
async function openInThisThread({ target, options }) {
  const module = await import(target);
  return mode === 'thread' ? module.createThreadedAppender(options) : module.default(options);
}

/**
 * In process, the app ends the stream itself (pino's exit hook is for transports). pino-socket's
 * stream does not end its socket: that is ended once the stream has handed everything over.
 */
function endInProcess() {
  destination.end();
  if (transport !== 'logwire') destination.once('finish', () => destination._socket.end());
}

// Fixed width: n + 10^7 has 8 digits for every n below 9·10^7.
const FIXED = 10_000_000;
let loopStart = 0n;
let loopEnd = 0n;

process.on('exit', () => {
  // pino's own exit handler was registered first (by pino.transport), so the transport has
  // closed (or pino gave up after 10 s) by now.
  const usage = process.resourceUsage();
  const line = {
    transport,
    count,
    emitMs: Number(loopEnd - loopStart) / 1e6,
    loopStartNs: String(loopStart),
    loopEndNs: String(loopEnd),
    maxRssKiB: usage.maxRSS,
    cpuUserMs: usage.userCPUTime / 1000,
    cpuSystemMs: usage.systemCPUTime / 1000,
    mainCpuMs: threadCpuMs(process.pid),
  };
  writeSync(1, `${JSON.stringify(line)}\n`);
});

/** A thread's user + system CPU in ms, from /proc (Linux; 10 ms ticks), else undefined. */
function threadCpuMs(tid) {
  try {
    if (!readdirSync('/proc/self/task').includes(String(tid))) return undefined;
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

loopStart = process.hrtime.bigint();
for (let i = 0; i < count; i++) {
  const n = FIXED + i;
  logger.info(
    {
      n,
      orderId: `ord_${n}`,
      customerId: 'cus_8f3a2c71',
      amountCents: 10_000 + (i % 90_000),
      currency: 'EUR',
      region: 'eu-west-1',
    },
    'order paid',
  );
}
loopEnd = process.hrtime.bigint();
if (inProcess) endInProcess();
