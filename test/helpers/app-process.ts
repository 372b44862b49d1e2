/**
 * A real pino app in a child process, loading the transport as users do: by package name
 * (`target: 'logwire/appender'`) from the packed install made by test/global-setup.ts.
 */

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const PACKED_APP_DIR = join(resolve(import.meta.dirname, '..', '..'), '.tmp', 'packed-app');

const APP = `
import pino from 'pino';
import { createAppender, createThreadedAppender } from 'logwire/appender';
const options = JSON.parse(process.env.LW_OPTIONS ?? '{}');
const count = Number(process.env.LW_COUNT ?? '1000');
const first = Number(process.env.LW_FIRST ?? '1');
const every = Number(process.env.LW_PACE_EVERY ?? '0');
const ms = Number(process.env.LW_PACE_MS ?? '0');
const bigAt = Number(process.env.LW_BIG_AT ?? '0');
const bigBytes = Number(process.env.LW_BIG_BYTES ?? '0');
const alsoFile = process.env.LW_ALSO_FILE;
const inProcess = process.env.LW_IN_PROCESS === '1';
const threaded = process.env.LW_THREADED === '1';
// Whether the event loop turned while the stream was being created (a macrotask ran meanwhile).
let turned = false;
setImmediate(() => { turned = true; });
const transport = threaded
  ? await createThreadedAppender(options, process.env.LW_RING_BYTES ? { ringBytes: Number(process.env.LW_RING_BYTES) } : {})
  : inProcess
  ? await createAppender(options)
  : alsoFile
  ? pino.transport({ targets: [
      { target: 'logwire/appender', options },
      { target: 'pino/file', options: { destination: alsoFile } },
    ] })
  : pino.transport({ target: 'logwire/appender', options });
const logger = pino({ name: process.env.LW_NAME ?? 'app' }, transport);
if (process.env.LW_REPORT_START === '1') process.stderr.write(turned ? 'created after a turn\\n' : 'created at once\\n');
// The app's own 'exit' listener, registered after the appender's: it logs one more record.
if (process.env.LW_EXIT_LOG === '1') process.on('exit', () => logger.info({ n: first + count }, 'at exit'));
for (let n = first; n < first + count; n++) {
  if (n === bigAt) logger.info({ n, pad: 'x'.repeat(bigBytes) }, 'big record');
  else logger.info({ n }, 'record');
  if (every > 0 && n % every === 0) await new Promise((resolve) => setTimeout(resolve, ms));
}
if (process.env.LW_FLUSH === '1') {
  await new Promise((resolve) => logger.flush(resolve));
  process.stderr.write('flushed: ' + transport.counters.acknowledged + ' acknowledged\\n');
}
const afterEnd = Number(process.env.LW_AFTER_END ?? '0');
if (afterEnd > 0) {
  transport.end();
  for (let k = 0; k < afterEnd; k++) logger.info({ n: first + count + k }, 'after end');
}
if (process.env.LW_END === 'exit') process.exit(0);
// In process, the app ends the stream itself: pino ends only transports.
if (inProcess) transport.end();
`;

export interface AppRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

export interface AppOptions {
  readonly options: Record<string, unknown>;
  readonly count: number;
  readonly first?: number;
  readonly name?: string;
  /** Pause `paceMs` after every `paceEvery` records, so a test can act mid-stream. */
  readonly paceEvery?: number;
  readonly paceMs?: number;
  /** 'exit': process.exit(0) right after logging; default: a natural exit. */
  readonly end?: 'exit' | 'natural';
  readonly timeoutMs?: number;
  /** The appender in the app's own thread (`pino(await createAppender(options))`), no worker. */
  readonly inProcess?: boolean;
  /** The appender on its own shipping thread (`createThreadedAppender`); the app just ends. */
  readonly threaded?: boolean;
  /** The threaded appender's ring size (an internal: a tiny ring fills at once). */
  readonly ringBytes?: number;
  /** After logging, `logger.flush()` and print the acknowledged count (in process or threaded). */
  readonly flush?: boolean;
  /** Call the stream's end() after logging, then log this many records more. */
  readonly afterEnd?: number;
  /** Log one more record (number first + count) from the app's own 'exit' listener. */
  readonly logAtExit?: boolean;
  /** Also log to this file through pino/file, in `targets` beside logwire. */
  readonly alsoFile?: string;
  /** Say on stderr whether creating the stream let the event loop turn ('created at once'). */
  readonly reportStart?: boolean;
  /** Record number `at` carries a pad of `bytes` (oversize tests). */
  readonly big?: { readonly at: number; readonly bytes: number };
}

/** Runs the app to its end and returns its exit and stderr. */
export function runApp(app: AppOptions): Promise<AppRun> {
  const script = join(PACKED_APP_DIR, 'app.mjs');
  writeFileSync(script, APP);
  const child = spawn(process.execPath, [script], {
    cwd: PACKED_APP_DIR,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      LW_OPTIONS: JSON.stringify(app.options),
      LW_COUNT: String(app.count),
      LW_FIRST: String(app.first ?? 1),
      LW_NAME: app.name ?? 'app',
      LW_PACE_EVERY: String(app.paceEvery ?? 0),
      LW_PACE_MS: String(app.paceMs ?? 0),
      LW_END: app.end ?? 'natural',
      LW_ALSO_FILE: app.alsoFile ?? '',
      LW_IN_PROCESS: app.inProcess === true ? '1' : '0',
      LW_THREADED: app.threaded === true ? '1' : '0',
      LW_RING_BYTES: app.ringBytes === undefined ? '' : String(app.ringBytes),
      LW_FLUSH: app.flush === true ? '1' : '0',
      LW_AFTER_END: String(app.afterEnd ?? 0),
      LW_EXIT_LOG: app.logAtExit === true ? '1' : '0',
      LW_REPORT_START: app.reportStart === true ? '1' : '0',
      LW_BIG_AT: String(app.big?.at ?? 0),
      LW_BIG_BYTES: String(app.big?.bytes ?? 0),
    },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`app did not exit in time:\n${stderr}`));
    }, app.timeoutMs ?? 60_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}
