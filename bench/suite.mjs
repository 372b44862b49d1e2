/**
 * Every benchmark in one run (`npm run bench`), peers alternating round by round, ratios with
 * 95 % intervals; prints the tables and writes docs/benchmarks.md and docs/benchmarks.svg.
 *
 *   npm run build && npm run bench              (full: 4 sizes × 3 modes, 1,000,000 records, 5 rounds;
 *                                                15 at 10,000 records and 10 at 100,000)
 *   npm run build && npm run bench -- --quick   (small sizes, 2 rounds: a few minutes)
 *   node bench/suite.mjs --quick --no-write     (print only)
 *   node bench/suite.mjs --quick --only scale   (one part, printed only; --only may repeat)
 */

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gapSection } from './suite-gaps.mjs';
import { appenderRun, collectorRound, latencyRun, scaleRun } from './suite-parts.mjs';
import { chart, fmt, goal, goalRows, median, ratio, showRatio, table } from './suite-report.mjs';

const ROOT_DIR = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
  },
});
const PARTS = ['appender', 'collector', 'scale', 'latency'];
for (const part of args.only ?? []) {
  if (!PARTS.includes(part)) throw new Error(`--only takes ${PARTS.join(', ')}; not ${part}`);
}
/** True when this part runs: all of them, or those named by --only (then nothing is written). */
const selected = (part) => args.only === undefined || args.only.includes(part);
const WRITE = !args['no-write'] && args.only === undefined;
const QUICK = args.quick;
const PLAN = QUICK
  ? {
      sizes: [10_000, 100_000],
      rounds: 2,
      collectorLines: 200_000,
      sources: [1, 10, 100, 1000],
      perSourceTotal: 200_000,
      files: [1, 10, 100, 1000],
      rates: [10_000, 50_000, 100_000],
      latencySeconds: 3,
    }
  : {
      sizes: [10_000, 100_000, 500_000, 1_000_000],
      rounds: 5,
      collectorLines: 1_000_000,
      sources: [1, 10, 100, 1000],
      perSourceTotal: 1_000_000,
      files: [1, 10, 100, 1000],
      rates: [10_000, 50_000, 100_000],
      latencySeconds: 10,
    };
/**
 * Rounds for an appender size: small runs take a fraction of a second and their ratios are the
 * noisiest (start-up and scheduling dominate), so they get more rounds.
 */
const roundsFor = (size) => PLAN.rounds * (size <= 10_000 ? 3 : size <= 100_000 ? 2 : 1);
const COMMAND = QUICK ? 'npm run build && npm run bench -- --quick' : 'npm run build && npm run bench';
const MODES = [
  ['worker', 'transport (pino.transport)'],
  ['thread', 'threaded (createThreadedAppender; pino-socket as a transport)'],
  ['inprocess', 'in process (createAppender)'],
];
const sections = [];
const goals = [];
const say = (text) => {
  console.log(text);
  sections.push(text);
};

// ---------------------------------------------------------------- appender vs pino-socket

if (selected('appender')) {
  say('## The appender against pino-socket\n');
  say(
    `Emit: the logging loop on the main thread. Acked: from spawning the app until every record is in the file (logwire: acknowledged; pino-socket acknowledges nothing, so: written). CPU: the app's main thread. Ratios are logwire / pino-socket, geometric mean of the per-round ratios with the 95 % interval. Rounds, the peers alternating: ${PLAN.sizes.map((size) => `${roundsFor(size)} at ${fmt(size)} records`).join(', ')}.\n`,
  );
  for (const [mode, label] of MODES) {
    const rows = [];
    for (const size of PLAN.sizes) {
      const runs = { logwire: [], 'pino-socket': [] };
      const rounds = roundsFor(size);
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? ['logwire', 'pino-socket'] : ['pino-socket', 'logwire'];
        for (const transport of order) {
          // pino-socket has no threaded form of its own: its peer there is pino-socket as a transport.
          const peerMode = transport === 'pino-socket' && mode === 'thread' ? 'worker' : mode;
          runs[transport].push(await appenderRun(transport, peerMode, size));
        }
      }
      const per = (key) => ratio(runs.logwire.map((r, i) => r[key] / runs['pino-socket'][i][key]));
      const acked = per('deliveredMs');
      rows.push([
        fmt(size),
        `${fmt(median(runs.logwire.map((r) => r.emitMs)))} / ${fmt(median(runs['pino-socket'].map((r) => r.emitMs)))}`,
        showRatio(per('emitMs')),
        `${fmt(median(runs.logwire.map((r) => r.deliveredMs)))} / ${fmt(median(runs['pino-socket'].map((r) => r.deliveredMs)))}`,
        showRatio(acked),
        showRatio(per('mainCpuMs')),
        `${fmt(median(runs.logwire.map((r) => r.rssMiB)))} / ${fmt(median(runs['pino-socket'].map((r) => r.rssMiB)))}`,
        `${runs['pino-socket'].filter((r) => !r.complete).length} of ${rounds}`,
      ]);
      if (mode === 'worker') goals.push(goal(`transport, ${fmt(size)} records: acked time`, acked, '≤', 1.0));
      if (mode === 'thread') goals.push(goal(`threaded, ${fmt(size)} records: acked time`, acked, '≤', 0.8));
    }
    say(`### ${label}\n`);
    say(
      `${table(['records', 'emit ms (lw / ps)', 'emit ratio', 'acked ms (lw / ps)', 'acked ratio', 'main-thread CPU ratio', 'peak RSS MiB (lw / ps)', 'pino-socket runs short of records'], rows)}\n`,
    );
  }
}

// ---------------------------------------------------------------- collector vs rsyslog

if (selected('collector')) {
  say('## The collector against rsyslog and a no-parsing sink\n');
  say(
    `The same ${fmt(PLAN.collectorLines)} pre-built records (bench/collector.mjs; ${PLAN.rounds + 2} rounds, each a fresh process running every case once, logwire first in even rounds and its peers first in odd ones; medians below): EVENTS acknowledged over one session, ndjson to the collector's ndjson listener, the same ndjson to rsyslog (imtcp → omfile), and the EVENTS bytes to a Node server that only counts them.\n`,
  );
  const collectorRounds = [];
  // Two more rounds than elsewhere: a round is cheap, and rsyslog's own rate varies run to run.
  for (let round = 0; round < PLAN.rounds + 2; round++)
    collectorRounds.push(await collectorRound(PLAN.collectorLines, collectorRounds.length));
  const cr = (key) => median(collectorRounds.map((r) => r[key]));
  const eventsVsRsyslog = ratio(collectorRounds.map((r) => r.events / r.rsyslog));
  const ndjsonVsRsyslog = ratio(collectorRounds.map((r) => r.ndjson / r.rsyslog));
  const sinkVsEvents = ratio(collectorRounds.map((r) => r.sink / r.events));
  say(
    `${table(
      ['case', 'lines/s (median)'],
      [
        ['EVENTS → collector → file (acknowledged)', fmt(cr('events'))],
        ['ndjson → collector → file', fmt(cr('ndjson'))],
        ['ndjson → rsyslog → file', fmt(cr('rsyslog'))],
        ['EVENTS bytes → no-parsing sink', fmt(cr('sink'))],
      ],
    )}\n`,
  );
  say(
    `${table(
      ['ratio', 'value'],
      [
        ['EVENTS / rsyslog', showRatio(eventsVsRsyslog)],
        ['ndjson / rsyslog', showRatio(ndjsonVsRsyslog)],
        ['sink / EVENTS (how far from the ceiling)', showRatio(sinkVsEvents)],
      ],
    )}\n`,
  );
  goals.push(goal('collector EVENTS / rsyslog', eventsVsRsyslog, '≥', 4));
  goals.push(goal('collector ndjson / rsyslog', ndjsonVsRsyslog, '≥', 5));
  goals.push(goal('no-parsing sink / collector EVENTS', sinkVsEvents, '≤', 2));
}

// ---------------------------------------------------------------- scale

if (selected('scale')) {
  say('## Scale: concurrent sources and output files\n');
  say(
    `${fmt(PLAN.perSourceTotal)} records in all, split over the sources (raw protocol sessions from one process, batches of 500, pipelined, built before the clock starts), into one collector. Every session connects and registers first (sessions ready: first connect until the last READY); then all send at once: records/s until the last ACK. The whole run, connects included, is given too. Medians of ${Math.min(PLAN.rounds, 3)} rounds, each running every count once. CPU: the collector's, user + system (its thread pool included), in the data phase. Alone: \`node bench/scale.mjs\`.\n`,
  );
  const scaleRows = [];
  let rssAt1000 = { mean: Number.NaN, low: Number.NaN, high: Number.NaN };
  const SCALE_ROUNDS = Math.min(PLAN.rounds, 3);
  for (const [kind, counts, perFile] of [
    ['sources, one file', PLAN.sources, false],
    ['sources, one file each', PLAN.files, true],
  ]) {
    // Every count once per round, so each round's 1,000-against-1 ratio compares runs made
    // minutes apart at most.
    const runs = new Map(counts.map((n) => [n, []]));
    for (let round = 0; round < SCALE_ROUNDS; round++) {
      for (const n of counts)
        runs.get(n).push(await scaleRun(n, Math.ceil(PLAN.perSourceTotal / n), perFile));
    }
    for (const n of counts) {
      const mid = (key) => median(runs.get(n).map((r) => r[key]));
      if (n === 1000 && !perFile) rssAt1000 = ratio(runs.get(n).map((r) => r.rssMiB / 150));
      scaleRows.push([
        `${fmt(n)} ${n === 1 ? kind.replace('sources', 'source') : kind}`,
        fmt(mid('setupMs')),
        fmt(mid('rate')),
        fmt(mid('totalMs')),
        fmt(mid('collectorCpuMs')),
        fmt(mid('rssMiB')),
      ]);
    }
    const flat = ratio(runs.get(1000).map((r, i) => r.rate / runs.get(1)[i].rate));
    goals.push(goal(`records/s, 1,000 sources / 1 (${kind.replace('sources, ', '')})`, flat, '≥', 0.8));
  }
  say(
    `${table(['case', 'sessions ready ms', 'records/s (median)', 'first connect → last ACK ms', 'collector CPU ms', 'collector peak RSS MiB'], scaleRows)}\n`,
  );
  goals.push(goal('collector RSS at 1,000 connections (MiB / 150)', rssAt1000, '≤', 1));
}

// ---------------------------------------------------------------- latency

if (selected('latency')) {
  say('## Latency: log.info → line in the file\n');
  say(
    `An app (pino.transport, logwire/appender, defaults) logs at a steady rate for ${PLAN.latencySeconds} s, ${PLAN.rounds} runs per rate; a tail process (at raised priority where allowed) reads the output file as it changes (inotify) and every 5 ms besides; 'tail late' is the longest its timer ran late (the measuring process waiting for a CPU), which the figures may include.\n`,
  );
  const latencyRows = [];
  // Rates alternate round by round, like the peers elsewhere: a load that drifts hurts each rate.
  const latencyRuns = new Map(PLAN.rates.map((rate) => [rate, []]));
  for (let round = 0; round < PLAN.rounds; round += 1)
    for (const rate of PLAN.rates) latencyRuns.get(rate).push(await latencyRun(rate, PLAN.latencySeconds));
  for (const [rate, runs] of latencyRuns) {
    const of = (key) => median(runs.map((r) => r[key]));
    const p99 = ratio(runs.map((r) => r.p99));
    latencyRows.push([
      `${fmt(rate)}/s`,
      fmt(of('p50'), 1),
      `${fmt(p99.mean, 1)}${Number.isFinite(p99.low) ? ` [${fmt(p99.low, 1)}, ${fmt(p99.high, 1)}]` : ''}`,
      fmt(Math.max(...runs.map((r) => r.max)), 1),
      fmt(of('records')),
      fmt(Math.max(...runs.map((r) => r.tailLate)), 1),
    ]);
    if (rate === 50_000)
      goals.push(goal('p99 latency at 50k/s (ms / 10 ms)', ratio(runs.map((r) => r.p99 / 10)), '≤', 1));
  }
  say(
    `${table(['rate', 'median p50 ms', 'p99 ms (geometric mean [95 %])', 'max ms', 'median records', 'tail late ms (max)'], latencyRows)}\n`,
  );
}

// ---------------------------------------------------------------- goals and the page

const goalTable = table(['goal', 'target', 'measured', ''], goalRows(goals));
console.log(`## Goals\n\n${goalTable}\n`);
if (WRITE) {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let rsyslog = 'rsyslogd not found';
  try {
    rsyslog = `rsyslogd ${/rsyslogd\s+([\d.]+)/.exec(execFileSync('rsyslogd', ['-v'], { encoding: 'utf8' }))?.[1] ?? '?'}`;
  } catch {}
  const machine = `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${rsyslog}`;
  const note = QUICK
    ? `These figures are from a **quick run** (\`--quick\`: ${PLAN.sizes.map((size) => fmt(size)).join(' and ')} records, ${PLAN.rounds} rounds, ${fmt(PLAN.collectorLines)} records for the collector) on a **shared 2-core machine** with other jobs running: they are noisy. The full run is \`npm run build && npm run bench\`.`
    : 'These figures are from a full run.';
  const page = [
    '# Benchmarks',
    '',
    `Generated by \`${COMMAND}\` (bench/suite.mjs) on ${new Date().toISOString().slice(0, 10)}: ${machine}.`,
    '',
    note,
    '',
    "Every comparison alternates the peers round by round on the same machine, so a load that drifts hurts both. Ratios are geometric means of the per-round ratios; the brackets are their 95 % interval (Student's t on the logarithms). One script per topic also runs alone: bench/appender.mjs, bench/collector.mjs, bench/scale.mjs, bench/latency.mjs, bench/transport.mjs, bench/codec.mjs, bench/dispatcher.mjs; `node bench/suite.mjs --quick --only scale` runs one part of this page.",
    '',
    '## Goals',
    '',
    goalTable,
    '',
    '![logwire / peer ratios against their goals](benchmarks.svg)',
    '',
    ...gapSection(goals),
    ...sections,
    '## Faults',
    '',
    '`npm run build && npm run soak` (short profile, under 3 minutes; run in the test suite) and `npm run soak -- --profile long` (by hand, about 10 minutes) check that no acknowledged record is lost or duplicated through collector kills, stops and pauses, network cuts and a black hole, logrotate in both modes, a full disk and hostile inputs: see soak/run.mjs. The latest long run, with its table of sent, acknowledged, lost and duplicated records per source, is in [soak.md](soak.md).',
    '',
  ].join('\n');
  writeFileSync(new URL('../docs/benchmarks.md', import.meta.url), page);
  writeFileSync(new URL('../docs/benchmarks.svg', import.meta.url), chart(goals));
  // The page is checked by Biome like every other file: laid out as Biome lays out tables.
  execFileSync('npx', ['biome', 'format', '--write', 'docs/benchmarks.md'], {
    cwd: ROOT_DIR,
    stdio: 'ignore',
  });
  console.log('wrote docs/benchmarks.md and docs/benchmarks.svg');
}
