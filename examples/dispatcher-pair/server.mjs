// The dispatcher pair, server side: a whole program driven by messages. Each connection hears
// HI; the client's DAD is answered CLIMB, TOP is answered WHO, MOM is answered BYE. Operators
// talk to the same port: `logwire signal --host tcp/127.0.0.1:PORT LOG` reopens this server's
// own log file (after logrotate moved it), QUIT or STOP closes every connection and exits 0.
//
//   node examples/dispatcher-pair/server.mjs --port 4050 [--trace] [--log pair-server.log]

import { appendFileSync, closeSync, openSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  Dispatcher,
  formatAddress,
  installStandardHandlers,
  listen,
  Messenger,
  message,
  parseAddress,
} from 'logwire';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4050' },
    address: { type: 'string' },
    log: { type: 'string', default: 'pair-server.log' },
    trace: { type: 'boolean', default: false },
  },
});
const where = values.address ?? `tcp/127.0.0.1:${values.port}`;

// The server's own log: one line per conversation step, reopened by name on LOG.
let logFd = openSync(values.log, 'a');
const log = (line) => appendFileSync(logFd, `${new Date().toISOString()} ${line}\n`);

const dispatcher = new Dispatcher({
  trace: values.trace ? (entry) => console.error(`trace ${entry.peer.remote} ${entry.command}`) : undefined,
});
const answers = { DAD: 'CLIMB', TOP: 'WHO', MOM: 'BYE' };
for (const [heard, answer] of Object.entries(answers)) {
  dispatcher.on(heard, (_msg, ctx) => {
    log(`${ctx.peer.remote ?? 'peer'} said ${heard}, answered ${answer}`);
    ctx.reply(message(answer));
  });
}
// Commands that change the server come only from this host (loopback or a Unix socket).
const fromHere = (command, ctx) => {
  if (ctx.peer.local) return true;
  ctx.reply(message('UNAUTHORIZED', { command }));
  return false;
};
dispatcher.on('LOG', (_msg, ctx) => {
  if (!fromHere('LOG', ctx)) return;
  closeSync(logFd);
  logFd = openSync(values.log, 'a');
  log('log reopened');
  ctx.reply(message('OK', { command: 'LOG' }));
});
for (const command of ['QUIT', 'STOP']) {
  dispatcher.on(command, (_msg, ctx) => {
    if (!fromHere(command, ctx)) return;
    ctx.reply(message('OK', { command }));
    stop(command);
  });
}
installStandardHandlers(dispatcher);

const messengers = new Set();
let listener;
try {
  listener = await listen(parseAddress(where), {}, (link) => {
    const messenger = new Messenger(link);
    messengers.add(messenger);
    const ctx = { peer: link.peer, reply: (msg) => messenger.send(msg) };
    messenger.on('message', (msg) => dispatcher.dispatch(msg, ctx));
    messenger.on('close', () => messengers.delete(messenger));
    messenger.send(message('HI'));
  });
} catch (err) {
  console.error(`server: ${err.message}`);
  process.exit(2);
}
console.error(`listening ${formatAddress(listener.address)}`);

let stopping = false;
function stop(why) {
  if (stopping) return;
  stopping = true;
  log(`stopping on ${why}`);
  // The OK goes out before the links close: close() ends each link after what it holds.
  for (const messenger of messengers) messenger.close();
  void listener.close().then(() => {
    closeSync(logFd);
    process.exit(0);
  });
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
