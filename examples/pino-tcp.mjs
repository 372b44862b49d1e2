// A pino app shipping its records to a logwire collector over TCP, through pino's own worker
// thread (`pino.transport`). The records land in ./logs/pino-tcp.log (the service is pino's `name`).
//
//   npx logwire collector                       # terminal 1: tcp/127.0.0.1:4043, records to ./logs
//   node examples/pino-tcp.mjs [--count 10]     # terminal 2 (after `npm run build` in a checkout)
//
// `--address ADDRESS` (or LOGWIRE_ADDRESS) ships to another collector, e.g. tcp/logs.internal:4043.

import { parseArgs } from 'node:util';
import pino from 'pino';

const { values } = parseArgs({
  options: {
    address: { type: 'string', default: process.env.LOGWIRE_ADDRESS ?? 'tcp/127.0.0.1:4043' },
    count: { type: 'string', default: '10' },
  },
});

const logger = pino(
  { name: 'pino-tcp' },
  pino.transport({ target: 'logwire/appender', options: { address: values.address } }),
);

// Without this, SIGTERM and SIGINT end the process before pino ends the transport, and what the
// collector has not yet acknowledged is lost (docs/appender.md, "Signals").
for (const signal of ['SIGTERM', 'SIGINT'])
  process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));

for (let n = 1; n <= Number(values.count); n++) logger.info({ n, order: 1000 + n }, 'order paid');
// At the natural exit pino ends the transport and waits until the collector acknowledged it all.
