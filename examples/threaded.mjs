// The threaded appender: logwire ships from its own thread, fed by the app's thread without
// pino's thread-stream. The fastest way to run it (docs/appender.md, "Three ways to run it").
//
//   npx logwire collector                          # terminal 1: records to ./logs
//   node examples/threaded.mjs [--count 100000]    # terminal 2 (after `npm run build` in a checkout)
//
// `--address ADDRESS` (or LOGWIRE_ADDRESS) ships to another collector.

import { parseArgs } from 'node:util';
import { createThreadedAppender } from 'logwire/appender';
import pino from 'pino';

const { values } = parseArgs({
  options: {
    address: { type: 'string', default: process.env.LOGWIRE_ADDRESS ?? 'tcp/127.0.0.1:4043' },
    count: { type: 'string', default: '100000' },
  },
});

const appender = await createThreadedAppender({ address: values.address });
const logger = pino({ name: 'threaded' }, appender);

for (const signal of ['SIGTERM', 'SIGINT'])
  process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));

// A tight loop that never yields: the shipping thread batches and ships meanwhile.
for (let n = 1; n <= Number(values.count); n++) logger.info({ n }, 'from a tight loop');

// flush calls back once everything logged so far is acknowledged (or closeTimeout passed).
logger.flush(() => {
  console.error(`threaded: ${appender.counters.acknowledged} records acknowledged`);
});
// At exit the app's thread hands over what it holds and waits for the shipping thread to close.
