/**
 * The fault soak: numbered records from several pino apps over every transport into the real
 * collector, while the collector is killed, stopped and paused, the network path is cut and
 * black-holed, logrotate rotates, the output disk fills, and hostile inputs hit every listener.
 * Then a checker counts, per source, records lost and duplicated. Exit 1 on any loss or
 * duplicate of acknowledged data (or a corrupt line, or a collector exit the soak did not cause).
 *
 *   npm run build && npm run soak                   (the short profile, under 3 minutes)
 *   npm run build && npm run soak -- --profile long (by hand: the full fault counts)
 *   node soak/run.mjs --profile short --keep        (keep the work directory for a look)
 *   npm run soak -- --profile long --write docs/soak.md  (also write the report as Markdown)
 *
 * Sources (each its own spool, so a collector that is down loses nothing):
 *   tcp  pino.transport  tcp  through a proxy   tls  pino.transport  tls through a proxy
 *   ws   threaded        ws   through a proxy   unix in process      unix through a proxy
 *   udp  pino.transport  udp, direct: unacknowledged, so outside the no-loss check
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { random } from '../bench/measure.mjs';
import { selfSignedCert } from '../test/helpers/self-signed-cert.mjs';
import { check } from './check.mjs';
import { Collector } from './collector.mjs';
import { fillDisk, freeDisk, logrotate, mountTmpfs, unmount } from './faults.mjs';
import { hostile } from './hostile.mjs';
import { freePorts, schedule, tableText, writeReport } from './plan.mjs';
import { PathProxy } from './proxy.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'dist', 'collector', 'cli', 'main.js');
const APP = join(ROOT, 'soak', 'app.mjs');

export const PROFILES = {
  short: {
    kills: 2,
    cuts: 3,
    blackHoleMs: 6000,
    downMs: 5000,
    stopMs: 3000,
    rotations: 2,
    fullMs: 3000,
    hostile: 600,
    settleMs: 2500,
    rate: 250,
    tmpfs: 256 << 20,
  },
  long: {
    kills: 5,
    cuts: 10,
    blackHoleMs: 20_000,
    downMs: 60_000,
    stopMs: 20_000,
    rotations: 10,
    fullMs: 20_000,
    hostile: 10_000,
    settleMs: 8000,
    rate: 400,
    tmpfs: 1024 << 20,
  },
};

const { values: args } = parseArgs({
  options: {
    profile: { type: 'string', default: 'short' },
    keep: { type: 'boolean', default: false },
    write: { type: 'string' },
  },
});
const profile = PROFILES[args.profile];
if (profile === undefined) {
  console.error(`--profile: short or long, not ${args.profile}`);
  process.exit(1);
}

const started = Date.now();
const failures = [];
/** Everything the soak prints, kept for --write. */
const transcript = [];
function say(text) {
  transcript.push(text);
  console.log(text);
}
function event(text) {
  const at = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  say(`[${at} s] ${text}`);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- set-up

const work = mkdtempSync(join(tmpdir(), 'logwire-soak-'));
const output = join(work, 'out');
mkdirSync(output);
const whyNoTmpfs = await mountTmpfs(output, profile.tmpfs);
event(
  whyNoTmpfs === null
    ? `output on a ${profile.tmpfs >> 20} MiB tmpfs at ${output}`
    : `disk-full fault skipped: ${whyNoTmpfs}`,
);

const cert = selfSignedCert(work);
const [tcpPort, wsPort, tlsPort, ndjsonPort, udpPort, tcpProxy, wsProxy, tlsProxy] = await freePorts(8);
const unixPath = join(work, 'collector.sock');
const unixProxyPath = join(work, 'proxy.sock');
const config = join(work, 'collector.toml');
writeFileSync(
  config,
  `output = "${output}"\nstate = "${join(work, 'state')}"\n` +
    `[[listen]]\naddress = "tcp/127.0.0.1:${tcpPort}"\n[[listen]]\naddress = "unix/${unixPath}"\n` +
    `[[listen]]\naddress = "ws/127.0.0.1:${wsPort}"\n[[listen]]\naddress = "udp/127.0.0.1:${udpPort}"\n` +
    `[[listen]]\naddress = "tls/127.0.0.1:${tlsPort}"\ntls_cert = "${cert.certFile}"\ntls_key = "${cert.keyFile}"\n` +
    `[[listen]]\naddress = "ndjson/127.0.0.1:${ndjsonPort}"\nservice = "hostile-ndjson"\n`,
);
const collector = new Collector({ main: MAIN, config, listeners: 6, logDir: work });
event(`collector started (pid ${await collector.start()})`);

const proxies = {
  tcp: new PathProxy({ port: tcpProxy, host: '127.0.0.1' }, { port: tcpPort, host: '127.0.0.1' }),
  ws: new PathProxy({ port: wsProxy, host: '127.0.0.1' }, { port: wsPort, host: '127.0.0.1' }),
  tls: new PathProxy({ port: tlsProxy, host: '127.0.0.1' }, { port: tlsPort, host: '127.0.0.1' }),
  unix: new PathProxy({ path: unixProxyPath }, { path: unixPath }),
};
for (const proxy of Object.values(proxies)) await proxy.start();

const stopFile = join(work, 'stop');
const common = { backoff: [200, 500, 1000], closeTimeout: 8000 };
const SOURCES = [
  { src: 'tcp', mode: 'transport', service: 'soak-a', address: `tcp/127.0.0.1:${tcpProxy}`, spool: true },
  {
    src: 'tls',
    mode: 'transport',
    service: 'soak-a',
    address: `tls/127.0.0.1:${tlsProxy}`,
    spool: true,
    tls: { ca: cert.cert.toString() },
  },
  { src: 'ws', mode: 'threaded', service: 'soak-b', address: `ws/127.0.0.1:${wsProxy}`, spool: true },
  { src: 'unix', mode: 'inprocess', service: 'soak-b', address: `unix/${unixProxyPath}`, spool: true },
  { src: 'udp', mode: 'transport', service: 'soak-udp', address: `udp/127.0.0.1:${udpPort}`, spool: false },
];

function appOptions(source) {
  return {
    ...common,
    address: source.address,
    service: source.service,
    source: `soak-${source.src}`,
    fallback: join(work, `fallback-${source.src}.ndjson`),
    ...(source.spool ? { spool: join(work, `spool-${source.src}`) } : {}),
    ...(source.tls ? { tls: source.tls } : {}),
  };
}

function startApp(source, mode) {
  const child = spawn(process.execPath, [APP], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      SOAK_OPTIONS: JSON.stringify(appOptions(source)),
      SOAK_MODE: mode,
      SOAK_SRC: source.src,
      SOAK_RATE: String(profile.rate),
      SOAK_STOP: stopFile,
    },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal, stderr }));
  return { child, exited };
}

const apps = new Map(SOURCES.map((source) => [source.src, startApp(source, source.mode)]));
for (const [src, app] of apps) {
  void app.exited.then(({ code, signal }) => {
    if (!stopping) failures.push(`app ${src} exited early (${code ?? signal})`);
  });
}
let stopping = false;
event(
  `${SOURCES.length} apps logging ${profile.rate} records/s each: ${SOURCES.map((s) => `${s.src} (${s.mode})`).join(', ')}`,
);

// ---------------------------------------------------------------- faults

const signalCommand = `${process.execPath} ${MAIN} signal --host unix/${unixPath} LOG`;
const archived = [];
const counts = { kill: 0, cut: 0, create: 0, copytruncate: 0 };

const FAULTS = {
  async kill() {
    const n = ++counts.kill;
    const pid = collector.child.pid;
    await collector.kill('SIGKILL');
    event(`kill #${n}: collector SIGKILL (pid ${pid}); restarted (pid ${await collector.start()})`);
  },
  async cut() {
    const n = ++counts.cut;
    let links = 0;
    for (const proxy of Object.values(proxies)) links += proxy.cut();
    event(`cut #${n}: ${links} links reset at the proxies`);
  },
  async blackHole() {
    for (const proxy of Object.values(proxies)) proxy.blackHole();
    event(`black hole: the proxies stop forwarding for ${profile.blackHoleMs / 1000} s`);
    await sleep(profile.blackHoleMs);
    for (const proxy of Object.values(proxies)) proxy.restore();
    event('black hole over: forwarding again');
  },
  async down() {
    await collector.kill('SIGTERM');
    event(`collector stopped (SIGTERM) for ${profile.downMs / 1000} s: the apps' spools carry it`);
    await sleep(profile.downMs);
    event(`collector back (pid ${await collector.start()})`);
  },
  async pause() {
    collector.pause();
    event(`collector SIGSTOP for ${profile.stopMs / 1000} s`);
    await sleep(profile.stopMs);
    collector.resume();
    event('collector SIGCONT');
  },
  async create() {
    await rotate('create');
  },
  async copytruncate() {
    await rotate('copytruncate');
  },
  async full() {
    if (whyNoTmpfs !== null) return event(`disk full: skipped (${whyNoTmpfs})`);
    const bytes = fillDisk(output);
    event(
      `disk full: ${(bytes / 2 ** 20).toFixed(1)} MiB filler on the output tmpfs for ${profile.fullMs / 1000} s`,
    );
    await sleep(profile.fullMs);
    freeDisk(output);
    event('disk freed');
  },
  async hostile() {
    const targets = {
      tcp: tcpPort,
      unix: unixPath,
      ws: `ws://127.0.0.1:${wsPort}`,
      tls: tlsPort,
      udp: udpPort,
      ndjson: ndjsonPort,
    };
    const sent = await hostile(targets, profile.hostile, random(22));
    const alive = collector.alive() ? 'collector still up' : 'COLLECTOR DOWN';
    event(
      `hostile: ${profile.hostile} inputs (${Object.entries(sent)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}); ${alive}`,
    );
  },
};

async function rotate(mode) {
  const k = counts.create + counts.copytruncate + 1;
  counts[mode] += 1;
  const moved = await logrotate({ output, mode, k, signalCommand, work });
  for (const path of moved) archived.push({ path, order: k, mode });
  event(`logrotate #${k} (${mode}): ${moved.length} files rotated`);
}

for (const fault of schedule(profile)) {
  await sleep(profile.settleMs);
  try {
    await FAULTS[fault]();
  } catch (error) {
    failures.push(`${fault}: ${error.message}`);
    event(`FAULT ${fault} FAILED: ${error.message}`);
    if (!collector.alive()) event(`collector restarted (pid ${await collector.start()})`);
  }
}
await sleep(profile.settleMs);

// ---------------------------------------------------------------- stop, drain, check

stopping = true;
writeFileSync(stopFile, '');
event('apps told to stop');
const reports = new Map();
for (const [src, app] of apps) {
  const timer = setTimeout(() => app.child.kill('SIGKILL'), 60_000);
  const exit = await app.exited;
  clearTimeout(timer);
  reports.set(src, exit);
}
event('apps exited');
for (const source of SOURCES.filter((s) => s.spool)) {
  const exit = await startApp(source, 'drain').exited;
  const leftover = /acknowledged=(\d+)/.exec(exit.stderr)?.[1] ?? '?';
  if (leftover !== '0') event(`drain ${source.src}: ${leftover} records shipped from the spool`);
  reports.get(source.src).drain = exit.stderr;
}
const final = await collector.kill('SIGTERM');
event(`collector stopped: exit ${final.code ?? final.signal}`);
if (final.code !== 0) failures.push(`collector's final SIGTERM exit ${final.code ?? final.signal}`);
for (const exit of collector.unexpected)
  failures.push(`collector exited on its own (${exit.code ?? exit.signal}); see ${exit.log}`);

const collectorSaid = readdirSync(work)
  .filter((name) => name.startsWith('collector-') && name.endsWith('.log'))
  .map((name) => readFileSync(join(work, name), 'utf8'))
  .join('');
const writeFailures = (collectorSaid.match(/cannot write/g) ?? []).length;
event(`the collector's logs (${collector.incarnation} runs) name ${writeFailures} failed writes (disk full)`);

const current = readdirSync(output)
  .filter((name) => name.startsWith('soak-') && name.endsWith('.log'))
  .map((name) => ({ path: join(output, name), order: Number.MAX_SAFE_INTEGER, mode: 'current' }));
const sources = SOURCES.map((source) => {
  const stderr = reports.get(source.src).stderr;
  const logged = Number(/soak-app: logged=(\d+)/.exec(stderr)?.[1] ?? Number.NaN);
  if (!Number.isFinite(logged)) failures.push(`app ${source.src} did not report what it logged:\n${stderr}`);
  return {
    src: source.src,
    logged,
    acked: /acknowledged=(\d+)/.exec(stderr)?.[1] ?? '—',
    fallback: join(work, `fallback-${source.src}.ndjson`),
    acknowledgedCheck: source.spool,
    stderr,
  };
});
const result = check([...archived, ...current], sources);
say(tableText(result.rows, SOURCES));
for (const source of sources) {
  const said = source.stderr.split('\n').filter((line) => line.startsWith('logwire appender:'));
  if (said.length > 0) say(`\n${source.src} said on stderr (${said.length} lines), last: ${said.at(-1)}`);
}
if (result.rows.some((row) => row.copytruncate > 0)) {
  say(
    '\ncopytruncate: records written between logrotate\'s copy and its truncate are lost by design (docs/collector.md, "What this cannot cover"); counted apart, not held against logwire.',
  );
}
for (const row of result.rows) {
  if (!row.acknowledgedCheck) continue;
  if (row.lost > 0)
    failures.push(`${row.src}: ${row.lost} acknowledged records lost (first: ${row.lostSamples.join(', ')})`);
  if (row.duplicated > 0) failures.push(`${row.src}: ${row.duplicated} records duplicated`);
}
if (result.corrupt > 0)
  failures.push(
    `${result.corrupt} corrupt lines in the soak outputs:\n  ${result.corruptSamples.join('\n  ')}`,
  );

for (const proxy of Object.values(proxies)) await proxy.close();
if (args.keep || failures.length > 0) {
  console.log(`\nwork directory kept: ${work}${whyNoTmpfs === null ? ` (then: umount ${output})` : ''}`);
} else {
  if (whyNoTmpfs === null) await unmount(output);
  rmSync(work, { recursive: true, force: true });
}
say(
  failures.length === 0
    ? `\nsoak ${args.profile}: PASS (${((Date.now() - started) / 1000).toFixed(0)} s)`
    : `\nsoak ${args.profile}: FAIL\n- ${failures.join('\n- ')}`,
);
if (args.write !== undefined) writeReport(args.write, args.profile, profile, transcript);
process.exit(failures.length === 0 ? 0 : 1);
