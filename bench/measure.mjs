/**
 * What every bench script shares: where the compiled code is, and how a case is timed.
 *
 *   warm up (LOGWIRE_BENCH_MS / 2) ─▶ 5 runs of ≥ LOGWIRE_BENCH_MS each ─▶ median rate
 *
 * A case is a function doing one batch of work and returning how many units it did (messages or
 * bytes), so the clock is read once per batch, not once per message.
 */

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Milliseconds per run (default 1000); lower it only to check that a script works. */
const RUN_MS = Number(process.env.LOGWIRE_BENCH_MS ?? 1000);
const RUNS = 5;

/** The compiled tree: ../dist by default (`npm run build`), or env LOGWIRE_DIST. */
export const DIST = distRoot();

function distRoot() {
  const dir = process.env.LOGWIRE_DIST;
  if (dir === undefined || dir === '') return new URL('../dist/', import.meta.url);
  const abs = isAbsolute(dir) ? dir : resolve(process.cwd(), dir);
  return pathToFileURL(abs.endsWith('/') ? abs : `${abs}/`);
}

/** Imports a compiled module by its path inside the tree, e.g. `shared/protocol/line.js`. */
export async function load(path) {
  const url = new URL(path, DIST);
  try {
    return await import(url.href);
  } catch (error) {
    console.error(`cannot load ${url.pathname}: run \`npm run build\` first, or set LOGWIRE_DIST`);
    throw error;
  }
}

/** Keeps results alive so the engine cannot drop the work that made them. */
let sink = 0;
export function keep(value) {
  sink = (sink + (typeof value === 'number' ? value : 1)) | 0;
}

function runFor(ms, batch) {
  let units = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(Math.round(ms * 1e6));
  let now = start;
  do {
    units += batch();
    now = process.hrtime.bigint();
  } while (now < until);
  return units / (Number(now - start) / 1e9);
}

/** Median of RUNS rates (units per second) after a warm-up. */
export function measure(batch) {
  runFor(RUN_MS / 2, batch);
  const rates = [];
  for (let i = 0; i < RUNS; i++) rates.push(runFor(RUN_MS, batch));
  rates.sort((a, b) => a - b);
  return rates[Math.floor(RUNS / 2)];
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const ONE_DECIMAL = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** Prints `name  value unit`, one line per case. */
export function report(name, rate, unit) {
  const value = unit.startsWith('MB/s') ? ONE_DECIMAL.format(rate / 1e6) : NUMBER.format(rate);
  console.log(`${name.padEnd(64)} ${value.padStart(12)} ${unit}`);
}

/** Runs, then reports, one case. */
export function bench(name, unit, batch) {
  report(name, measure(batch), unit);
}

/** What the numbers were taken on. */
export function header(title) {
  console.log(`# ${title}`);
  console.log(
    `# node ${process.version}, ${availableParallelism()} cpus, ${new Date().toISOString()}, ` +
      `dist ${DIST.pathname}, ${RUNS} runs of ${RUN_MS} ms, median`,
  );
}

/** Stops the script when a case does not do what it claims to measure. */
export function check(condition, what) {
  if (!condition) throw new Error(`bench setup is wrong: ${what}`);
}

/** Deterministic numbers (mulberry32), so every run feeds the same bytes. */
export function random(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A process's user + system CPU so far, in ms (all its threads; 10 ms ticks), from Linux /proc;
 * NaN elsewhere or once it is gone.
 */
export function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}
