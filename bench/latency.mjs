/**
 * The suite's latency case alone, quickly: log.info → line in the file at each rate, a few runs.
 *
 *   npm run build && node bench/latency.mjs                       (10k, 50k, 100k/s; 3 s; 3 runs)
 *   node bench/latency.mjs --rates 50000 --seconds 2 --runs 5
 *   node bench/latency.mjs --target /tmp/old-dist/appender/index.js   (another build's appender)
 *
 * Prints p50 / p99 / max per run; per rate the median p50, the geometric mean of p99 with its
 * 95 % interval (as the suite reports it) and the largest max. Runs alternate the rates.
 */

import { parseArgs } from 'node:util';
import { latencyRun } from './suite-parts.mjs';
import { fmt, median, ratio, table } from './suite-report.mjs';

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

const runsOf = new Map(rates.map((rate) => [rate, []]));
for (let run = 1; run <= runs; run += 1) {
  for (const rate of rates) {
    const r = await latencyRun(rate, seconds);
    runsOf.get(rate).push(r);
    console.log(
      `${fmt(rate)}/s run ${run}: p50 ${fmt(r.p50, 1)}  p99 ${fmt(r.p99, 1)}  max ${fmt(r.max, 1)} ms  (${fmt(r.records)} records; tail late by up to ${fmt(r.tailLate, 1)} ms, nice ${r.tailNice})`,
    );
  }
}
const rows = [...runsOf].map(([rate, results]) => {
  const p99 = ratio(results.map((r) => r.p99));
  const interval = Number.isFinite(p99.low) ? ` [${fmt(p99.low, 1)}, ${fmt(p99.high, 1)}]` : '';
  return [
    `${fmt(rate)}/s`,
    fmt(median(results.map((r) => r.p50)), 1),
    `${fmt(p99.mean, 1)}${interval}`,
    fmt(Math.max(...results.map((r) => r.max)), 1),
    String(runs),
  ];
});
console.log(
  `\n${table(['rate', 'median p50 ms', 'p99 ms (geometric mean [95 %])', 'max ms', 'runs'], rows)}`,
);
