// The dispatcher pair, client side. It waits for the server (the permanent client reconnects
// with backoff, so either side may start first), answers HI with DAD, CLIMB with TOP and WHO
// with MOM, and on BYE closes and exits 0.
//
//   node examples/dispatcher-pair/client.mjs --port 4050 [--trace]

import { parseArgs } from 'node:util';
import { Dispatcher, installStandardHandlers, message, PermanentClient, parseAddress } from 'logwire';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4050' },
    address: { type: 'string' },
    trace: { type: 'boolean', default: false },
  },
});
const where = values.address ?? `tcp/127.0.0.1:${values.port}`;

const client = new PermanentClient({
  addresses: [parseAddress(where)],
  // Retry quickly while the server is not up yet.
  backoff: { initial: 100, max: 2000, factor: 2 },
});
const dispatcher = new Dispatcher({
  trace: values.trace ? (entry) => console.error(`trace ${entry.peer.remote} ${entry.command}`) : undefined,
});
const ctx = {
  get peer() {
    return client.messenger?.link.peer;
  },
  reply: (msg) => client.send(msg),
};
const answers = { HI: 'DAD', CLIMB: 'TOP', WHO: 'MOM' };
for (const [heard, answer] of Object.entries(answers)) {
  dispatcher.on(heard, (_msg, ctx) => ctx.reply(message(answer)));
}
dispatcher.on('BYE', () => {
  void client.close().then(() => process.exit(0));
});
installStandardHandlers(dispatcher);

client.on('message', (msg) => dispatcher.dispatch(msg, ctx));
let waiting = false;
client.on('status', (status) => {
  if (status.state === 'connected') console.error(`connected to ${where}`);
  else if (!waiting && status.state !== 'closed') {
    waiting = true;
    console.error(`waiting for a server at ${where}`);
  }
});
process.on('SIGINT', () => void client.close().then(() => process.exit(130)));
