// A pino app with an on-disk spool: every record goes to disk before it is sent and leaves it
// once the collector acknowledges it. Records logged while no collector answers stay in the spool
// when the app exits, and ship at the app's next start.
//
//   npx logwire collector                            # terminal 1: records to ./logs; stop it with Ctrl-C
//   node examples/spool.mjs --spool ./spool          # terminal 2, run it while the collector is down,
//                                                    # start the collector again, run it once more:
//                                                    # ./logs/spool-demo.log then has every record, once.
//
// `--address ADDRESS` (or LOGWIRE_ADDRESS) ships to another collector; `--count N` logs N records.

import { parseArgs } from 'node:util';
import pino from 'pino';

const { values } = parseArgs({
  options: {
    address: { type: 'string', default: process.env.LOGWIRE_ADDRESS ?? 'tcp/127.0.0.1:4043' },
    spool: { type: 'string', default: './spool' },
    count: { type: 'string', default: '5' },
  },
});

const logger = pino(
  { name: 'spool-demo' },
  pino.transport({
    target: 'logwire/appender',
    // A spool also names the service for what it holds, so it ships before anything new is logged.
    options: { address: values.address, spool: values.spool },
  }),
);

for (const signal of ['SIGTERM', 'SIGINT'])
  process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));

for (let n = 1; n <= Number(values.count); n++) logger.info({ n }, 'kept until acknowledged');
// At exit: what the collector acknowledged is gone from the spool; the rest waits there.
