/**
 * The tail of the suite's latency case (latencyRun in bench/suite-parts.mjs): reads the output
 * file in argv[2] (a directory; its one .log file) as soon as it changes (fs.watch: inotify), and
 * every 5 ms besides, and notes, for each measured record, the time it was read minus its `t`
 * (CLOCK_MONOTONIC ms, bench/suite-latency-app.mjs). Reading on the change event, not on a 1 ms
 * poll, takes the poll's interval (~0.5 ms on average) out of the figures, and wakes this process
 * once per write instead of 1,000 times a second.
 * Once the parent says 'app-exited' and nothing new came for a second, it sends
 * { p50, p99, max, records, tailLate, tailNice } and exits; tailLate is how late its 5 ms timer
 * ran at worst (the measuring process waiting for a CPU: reads were late by as much).
 *
 * A process of its own, with a raised priority where the system allows (it sleeps nearly all the
 * time, so it takes next to no CPU from the app or the collector): a read that runs late because the
 * measuring process waited for a CPU would be counted as latency of every record it reads.
 */

import { closeSync, openSync, readdirSync, readSync, watch } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';

const [dir, expected] = process.argv.slice(2);
const now = () => performance.now();
/** CLOCK_MONOTONIC in ms: the clock the latency app stamps its records with. */
const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

try {
  setPriority(-10);
} catch {
  // Not allowed here: the tail runs at the usual priority, and says so (tailNice).
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

let appExited = false;
process.on('message', (message) => {
  if (message === 'app-exited') appExited = true;
});

const tail = new LatencyTail(Number(expected));
/** Reads also come every POLL_MS besides the file's change events (inotify), should one be missed. */
const POLL_MS = 5;
let fd;
let watcher;
let quietSince = now();
let polled = now();
let tailLate = 0;
/** Reads up to the end of the file: more than the buffer holds may have come since the last read. */
const readNow = () => {
  if (fd === undefined) return;
  while (tail.read(fd)) quietSince = now();
};
while (!appExited || now() - quietSince < 1000) {
  await sleep(POLL_MS);
  tailLate = Math.max(tailLate, now() - polled - POLL_MS);
  polled = now();
  if (fd === undefined) {
    const file = readdirSync(dir).find((name) => name.endsWith('.log') && !name.startsWith('_'));
    if (file === undefined) continue;
    fd = openSync(join(dir, file), 'r');
    watcher = watch(join(dir, file), readNow);
  }
  readNow();
}
watcher?.close();
if (fd !== undefined) closeSync(fd);
process.send({ ...tail.quantiles(), tailLate, tailNice: getPriority() }, () => process.exit(0));
