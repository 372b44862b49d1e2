// `npm start`: the collector on its embedded default (tcp and udp on 127.0.0.1:4043, records to
// ./logs) plus a pino app shipping to it through `logwire/appender`. Ctrl-C stops both.
// LOGWIRE_DEMO_RECORDS=N logs N records, then stops (used by the test of this command).

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/collector/cli/main.js', import.meta.url));
const app = fileURLToPath(new URL('./demo-app.mjs', import.meta.url));
const records = process.env.LOGWIRE_DEMO_RECORDS;

const collector = spawn(process.execPath, [cli, 'collector'], { stdio: ['ignore', 'inherit', 'pipe'] });
collector.stderr.setEncoding('utf8');
let started = false;
collector.stderr.on('data', (text) => {
  process.stderr.write(text);
  if (!started && text.includes('listening udp/')) {
    started = true;
    console.log('collector up: records go to ./logs/demo.log (try `tail -f logs/demo.log`); Ctrl-C to stop');
    const demo = spawn(process.execPath, [app], { stdio: 'inherit', env: process.env });
    demo.on('exit', (code) => {
      if (records !== undefined) collector.kill('SIGTERM');
      if (code !== 0) process.exitCode = code ?? 1;
    });
    process.on('SIGINT', () => demo.kill('SIGTERM'));
  }
});
collector.on('exit', (code) => {
  if (!started) console.error('the collector did not start (is something else on 127.0.0.1:4043?)');
  process.exitCode ??= code ?? 0;
});
process.on('SIGINT', () => collector.kill('SIGTERM'));
