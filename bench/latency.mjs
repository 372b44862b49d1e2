/**
 * The suite's latency case alone, quickly: log.info → line in the file at each rate, a few runs.
 *
 *   npm run build && node bench/latency.mjs                       (10k, 50k, 100k/s; 3 s; 3 runs)
 *   node bench/latency.mjs --rates 50000 --seconds 2 --runs 5
 *   node bench/latency.mjs --target /tmp/old-dist/appender/index.js   (another build's appender)
 *
 * Prints p50 / p99 / max per run and the median of each over the runs.
 */

import { parseArgs } from 'node:util';
import { latencyRun } from './suite-parts.mjs';
import { fmt, median, table } from './suite-report.mjs';

const { values: args } = parseArgs({
  options: {
    rates: { type: 'string', default: '10000,50000,100000' },
    seconds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
    target: { type: 'string' },
  },
});
const rates = args.rates.split(',').map(Number);
const seconds = Number(args.seconds);
const runs = Number(args.runs);
if (args.target !== undefined) process.env.LW_BENCH_TARGET = args.target;
if (!rates.every((rate) => rate > 0) || !(seconds > 0) || !(runs > 0))
  throw new Error('--rates, --seconds and --runs take positive numbers');

const rows = [];
for (const rate of rates) {
  const results = [];
  for (let run = 0; run < runs; run += 1) {
    const r = await latencyRun(rate, seconds);
    results.push(r);
    console.log(
      `${fmt(rate)}/s run ${run + 1}: p50 ${fmt(r.p50, 1)}  p99 ${fmt(r.p99, 1)}  max ${fmt(r.max, 1)} ms  (${fmt(r.records)} records; tail polls late by up to ${fmt(r.tailLate, 1)} ms, nice ${r.tailNice})`,
    );
  }
  const of = (key) => median(results.map((r) => r[key]));
  rows.push([`${fmt(rate)}/s`, fmt(of('p50'), 1), fmt(of('p99'), 1), fmt(of('max'), 1), String(runs)]);
}
console.log(`\n${table(['rate', 'median p50 ms', 'median p99 ms', 'median max ms', 'runs'], rows)}`);
