// A pino app shipping to the local collector. The transport is loaded as users load it: by
// package name, `target: 'logwire/appender'`.

import pino from 'pino';

const transport = pino.transport({ target: 'logwire/appender', options: { address: 'tcp/127.0.0.1:4043' } });
const logger = pino({ name: 'demo' }, transport);
const limit = Number(process.env.LOGWIRE_DEMO_RECORDS ?? Number.POSITIVE_INFINITY);

// pino ends the transport (and logwire delivers what it holds) on a normal exit, not on a signal.
process.on('SIGTERM', () => process.exit(0));

let n = 0;
const timer = setInterval(
  () => {
    n += 1;
    logger.info({ n, order: 1000 + n, amount: (n * 7.3).toFixed(2) }, 'order paid');
    if (n % 5 === 0) logger.warn({ n }, 'slow payment provider');
    if (n >= limit) {
      clearInterval(timer);
      logger.flush(() => process.exit(0));
    }
  },
  Number(process.env.LOGWIRE_DEMO_INTERVAL ?? 500),
);
