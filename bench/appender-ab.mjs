/**
 * A/B of two appender builds against pino-socket, alternating round by round (appenderRun of
 * bench/suite-parts.mjs): acked and emit ms per variant, geometric means, and ratios with a 95 %
 * interval (t over the per-round log ratios).
 *
 *   cp -r dist /tmp/dist-old                # before the change (inside the repo if its
 *   node bench/appender-ab.mjs worker 10000 7 /abs/path/to/old/dist   # imports need node_modules)
 *
 * args: mode (worker | thread | inprocess), records, rounds, the old build's dist directory
 * (omitted: only this build and pino-socket). The collector is this build's in every run.
 */

import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appenderRun } from './suite-parts.mjs';

const [mode = 'worker', records = '10000', roundsArg = '5', oldDist] = process.argv.slice(2);
const count = Number(records);
const rounds = Number(roundsArg);
const NEW = fileURLToPath(new URL('../dist/appender/index.js', import.meta.url));
const targets = {
  new: NEW,
  ...(oldDist === undefined ? {} : { old: join(resolve(oldDist), 'appender', 'index.js') }),
};
const variants = [...Object.keys(targets), 'peer'];
const results = Object.fromEntries(variants.map((v) => [v, []]));

for (let round = 0; round < rounds; round++) {
  for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
    if (variant === 'peer') delete process.env.LW_BENCH_TARGET;
    else process.env.LW_BENCH_TARGET = targets[variant];
    const peer = variant === 'peer';
    const run = await appenderRun(peer ? 'pino-socket' : 'logwire', peer ? 'worker' : mode, count);
    results[variant].push(run);
    process.stderr.write(`${round} ${variant} ${JSON.stringify(run)}\n`);
  }
}

const T95 = [12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23];
const geomean = (values) => Math.exp(values.reduce((sum, x) => sum + Math.log(x), 0) / values.length);
function ratio(a, b, key) {
  const logs = a.map((run, i) => Math.log(run[key] / b[i][key]));
  const mean = logs.reduce((sum, x) => sum + x, 0) / logs.length;
  if (logs.length < 2) return Math.exp(mean).toFixed(3);
  const sd = Math.sqrt(logs.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (logs.length - 1));
  const half = ((T95[logs.length - 2] ?? 2) * sd) / Math.sqrt(logs.length);
  return `${Math.exp(mean).toFixed(3)} [${Math.exp(mean - half).toFixed(3)}, ${Math.exp(mean + half).toFixed(3)}]`;
}
console.log(`${mode} ${count} records, ${rounds} rounds`);
for (const variant of variants) {
  const runs = results[variant];
  const gm = (key) => geomean(runs.map((run) => run[key])).toFixed(0);
  console.log(
    `${variant}: acked ${gm('deliveredMs')} ms, emit ${gm('emitMs')} ms, rss ${gm('rssMiB')} MiB, complete ${runs.every((run) => run.complete)}`,
  );
}
for (const [a, b] of [
  ['new', 'old'],
  ['old', 'peer'],
  ['new', 'peer'],
]) {
  if (results[a] === undefined || results[b] === undefined) continue;
  console.log(
    `${a}/${b}: acked ${ratio(results[a], results[b], 'deliveredMs')}, emit ${ratio(results[a], results[b], 'emitMs')}`,
  );
}
