// A pino app shipping over WebSocket (subprotocol logwire.v1), as through a proxy that passes only
// HTTP. The collector needs a ws (or wss) listener; the path is part of the address.
//
//   npx logwire collector --listen ws/127.0.0.1:4044/logs          # terminal 1: records to ./logs
//   node examples/pino-websocket.mjs                               # terminal 2 (after `npm run build` in a checkout)
//
// `--address ADDRESS` (or LOGWIRE_ADDRESS) names another one, e.g. wss/logs.example.com:443/logs.

import { parseArgs } from 'node:util';
import pino from 'pino';

const { values } = parseArgs({
  options: {
    address: { type: 'string', default: process.env.LOGWIRE_ADDRESS ?? 'ws/127.0.0.1:4044/logs' },
    count: { type: 'string', default: '10' },
  },
});

const logger = pino(
  { name: 'pino-websocket' },
  pino.transport({ target: 'logwire/appender', options: { address: values.address } }),
);

for (const signal of ['SIGTERM', 'SIGINT'])
  process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));

for (let n = 1; n <= Number(values.count); n++) logger.info({ n }, 'over a websocket');
