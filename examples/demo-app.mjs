// A pino app shipping to the local collector. The transport is loaded as users load it: by
// package name, `target: 'logwire/appender'`.

import pino from 'pino';

const address = process.env.LOGWIRE_DEMO_ADDRESS ?? 'tcp/127.0.0.1:4043';
const transport = pino.transport({ target: 'logwire/appender', options: { address } });
const logger = pino({ name: 'demo' }, transport);
const limit = Number(process.env.LOGWIRE_DEMO_RECORDS ?? Number.POSITIVE_INFINITY);

// Let SIGTERM and SIGINT end the transport cleanly (docs/appender.md, "Signals"): pino ends the
// transport, and logwire delivers what it holds, on process.exit, not on a bare signal.
for (const signal of ['SIGTERM', 'SIGINT'])
  process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));

let records = 0;
process.on('exit', () => process.stderr.write(`demo app: ${records} records logged\n`));

let n = 0;
const timer = setInterval(
  () => {
    n += 1;
    logger.info({ n, order: 1000 + n, amount: (n * 7.3).toFixed(2) }, 'order paid');
    records += 1;
    if (n % 5 === 0) {
      logger.warn({ n }, 'slow payment provider');
      records += 1;
    }
    if (n >= limit) {
      clearInterval(timer);
      logger.flush(() => process.exit(0));
    }
  },
  Number(process.env.LOGWIRE_DEMO_INTERVAL ?? 500),
);
