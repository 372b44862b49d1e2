// A pino app writing every record twice through pino's `targets`: to a local file (pino/file)
// and to a logwire collector (logwire/appender). A collector outage never touches the local file.
//
//   npx logwire collector                                   # terminal 1: records to ./logs
//   node examples/pino-targets.mjs [--file ./app.log]       # terminal 2 (after `npm run build` in a checkout)
//
// `--address ADDRESS` (or LOGWIRE_ADDRESS) ships to another collector; `--count N` logs N records.

import { parseArgs } from 'node:util';
import pino from 'pino';

const { values } = parseArgs({
  options: {
    address: { type: 'string', default: process.env.LOGWIRE_ADDRESS ?? 'tcp/127.0.0.1:4043' },
    file: { type: 'string', default: './app.log' },
    count: { type: 'string', default: '10' },
  },
});

const transport = pino.transport({
  targets: [
    { target: 'pino/file', options: { destination: values.file, mkdir: true } },
    { target: 'logwire/appender', options: { address: values.address } },
  ],
});
const logger = pino({ name: 'pino-targets' }, transport);

for (const signal of ['SIGTERM', 'SIGINT'])
  process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));

for (let n = 1; n <= Number(values.count); n++) logger.info({ n }, 'shipped and kept');
