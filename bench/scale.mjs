/**
 * The suite's scale part alone (bench/suite-parts.mjs scaleRun): N raw protocol sessions from
 * this process into one collector, one output file for all or one per source; records/s until
 * the last ACK once every session is ready (and how long they took to connect and register),
 * the collector's peak RSS, and the CPU time of the collector and of this driver in the data
 * phase (so a slow case shows which side is the limit).
 *
 *   npm run build && node bench/scale.mjs                       (quick: 200,000 records, 2 rounds)
 *   node bench/scale.mjs --total 1000000 --rounds 3 --sources 1000 --files each
 *   LOGWIRE_DIST=/tmp/old-dist node bench/scale.mjs             (another build, for A/B runs)
 *   LW_BENCH_COLLECTOR_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' node bench/scale.mjs
 */

import { parseArgs } from 'node:util';
import { scaleRun } from './suite-parts.mjs';
import { fmt, median, table } from './suite-report.mjs';

const { values: args } = parseArgs({
  options: {
    total: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '2' },
    sources: { type: 'string', default: '1,10,100,1000' },
    files: { type: 'string', default: 'one,each' },
  },
});
const total = Number(args.total);
const rounds = Number(args.rounds);
const rows = [];
for (const files of args.files.split(',')) {
  for (const n of args.sources.split(',').map(Number)) {
    const runs = [];
    for (let round = 0; round < rounds; round++)
      runs.push(await scaleRun(n, Math.ceil(total / n), files === 'each'));
    const mid = (key) => median(runs.map((r) => r[key]));
    rows.push([
      `${fmt(n)} ${n === 1 ? 'source' : 'sources'}, ${files === 'each' ? 'one file each' : 'one file'}`,
      fmt(mid('setupMs')),
      fmt(mid('setupCollectorCpuMs')),
      fmt(mid('rate')),
      fmt(mid('ms')),
      fmt(mid('totalMs')),
      fmt(mid('collectorCpuMs')),
      fmt(mid('driverCpuMs')),
      fmt(mid('rssMiB')),
    ]);
  }
}
console.log(
  table(
    [
      'case',
      'sessions ready ms',
      'collector CPU ms (setup)',
      'records/s',
      'data ms',
      'total ms',
      'collector CPU ms',
      'driver CPU ms',
      'collector peak RSS MiB',
    ],
    rows,
  ),
);
