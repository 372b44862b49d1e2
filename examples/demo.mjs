// `npm start`: the collector on its embedded default (tcp and udp on 127.0.0.1:4043, records to
// ./logs) plus a pino app shipping to it through `logwire/appender`. Ctrl-C stops both cleanly:
// the app first (it delivers what it holds), then the collector (it drains), and exits 0.
// LOGWIRE_DEMO_RECORDS=N logs N records, then stops; LOGWIRE_DEMO_LISTEN=ADDRESS replaces the
// collector's listeners (the tests use tcp/127.0.0.1:0); LOGWIRE_DEMO_INTERVAL=MS paces the app.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/collector/cli/main.js', import.meta.url));
const appScript = fileURLToPath(new URL('./demo-app.mjs', import.meta.url));
const listen = process.env.LOGWIRE_DEMO_LISTEN;

// Both children get their own process group (detached): Ctrl-C then reaches this script alone,
// which stops them in order, one signal each. Were the collector stopped with the app, it would
// stop reading the records the app ships while it closes; a second signal would cut its drain.
const collector = spawn(process.execPath, [cli, 'collector', ...(listen ? ['--listen', listen] : [])], {
  stdio: ['ignore', 'inherit', 'pipe'],
  detached: true,
});
/** @type {import('node:child_process').ChildProcess | undefined} */
let app;
let stopping = false;
let appFailed = false;

collector.stderr.setEncoding('utf8');
collector.stderr.on('data', (text) => {
  process.stderr.write(text);
  const bound = /^listening (tcp\/\S+)$/m.exec(text);
  if (app === undefined && bound !== null && !stopping) startApp(bound[1]);
});

function startApp(address) {
  console.log('collector up: records go to ./logs/demo.log (try `tail -f logs/demo.log`); Ctrl-C to stop');
  app = spawn(process.execPath, [appScript], {
    stdio: 'inherit',
    env: { ...process.env, LOGWIRE_DEMO_ADDRESS: address },
    detached: true,
  });
  app.on('exit', (code) => {
    // 130 and 143 are the app's own answer to the SIGINT or SIGTERM we sent it.
    if (!(code === 0 || (stopping && (code === 130 || code === 143)))) appFailed = true;
    stopCollector();
  });
}

function running(child) {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

let collectorSignalled = false;
function stopCollector() {
  if (collectorSignalled || !running(collector)) return;
  collectorSignalled = true;
  collector.kill('SIGTERM');
}

/** Ctrl-C (or SIGTERM): the app first; the collector once the app has exited. */
function stop() {
  if (stopping) return;
  stopping = true;
  if (running(app)) app.kill('SIGINT');
  else stopCollector();
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, stop);

collector.on('exit', (code) => {
  if (app === undefined && !stopping)
    console.error('the collector did not start (is something else on 127.0.0.1:4043?)');
  if (running(app)) app.kill('SIGINT');
  process.exitCode = code !== 0 ? (code ?? 1) : appFailed ? 1 : 0;
});
