/**
 * One soak source: a pino app loading `logwire/appender` by package name (the repo's own build,
 * through the package's self-reference), logging numbered records `{ src, n }` at SOAK_RATE per
 * second until the file SOAK_STOP exists, then ending as an app does. On stderr at the end:
 *
 *   soak-app: logged=<count> last=<n> [acknowledged=<a> dropped=<d> queued=<q>]
 *
 * (the counters only where the app holds the stream: threaded and in process).
 *
 * SOAK_MODE: transport (pino.transport, pino's worker) | threaded | inprocess | drain.
 * drain: log nothing; open the spool in process, wait until nothing is queued, end. It ships
 * what an earlier run left in the spool.
 */

import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAppender, createThreadedAppender } from 'logwire/appender';
import pino from 'pino';

const options = JSON.parse(process.env.SOAK_OPTIONS ?? '{}');
const mode = process.env.SOAK_MODE ?? 'transport';
const src = process.env.SOAK_SRC ?? 'app';
const rate = Number(process.env.SOAK_RATE ?? '200');
const stopFile = process.env.SOAK_STOP ?? '';
const TICK_MS = 20;

async function open() {
  if (mode === 'transport') return pino.transport({ target: 'logwire/appender', options });
  if (mode === 'threaded') return createThreadedAppender(options);
  return createAppender(options);
}

function report(stream, logged, last) {
  const c = stream.counters;
  const counters = c ? ` acknowledged=${c.acknowledged} dropped=${c.dropped} queued=${c.queued}` : '';
  process.stderr.write(`soak-app: logged=${logged} last=${last}${counters}\n`);
}

const stream = await open();

if (mode === 'drain') {
  const until = Date.now() + 30_000;
  while (Date.now() < until && (stream.counters.queued > 0 || stream.state !== 'connected')) await sleep(100);
  report(stream, 0, 0);
  stream.end();
} else {
  const logger = pino({ name: `soak-${src}` }, stream);
  let n = 0;
  const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));
  while (!existsSync(stopFile)) {
    for (let k = 0; k < perTick; k++) {
      n += 1;
      logger.info({ src, n }, 'soak record');
    }
    await sleep(TICK_MS);
  }
  if (mode !== 'transport') await new Promise((resolve) => logger.flush(resolve));
  report(stream, n, n);
  if (mode === 'inprocess') stream.end();
}
