/**
 * The dispatcher alone (issue #2): dispatches/s of a received EVENTS message to an exact match
 * with the definitions check on, as the collector runs it; then the same without the check, a
 * regex match, and a command no handler takes (the standard UNKNOWN catch-all answers it).
 *
 *   npm run build && node bench/dispatcher.mjs
 *   LOGWIRE_DIST=/tmp/lw-bench-dist node bench/dispatcher.mjs     (a build elsewhere)
 */

import { bench, check, header, keep, load } from './measure.mjs';

const { Dispatcher } = await load('shared/dispatcher/dispatcher.js');
const { installStandardHandlers } = await load('shared/dispatcher/standard-handlers.js');
const { DEFINITIONS } = await load('shared/protocol/definitions.js');
const { parseLine } = await load('shared/protocol/line.js');

const BATCH = 10_000;

/** A message as the frame decoder hands it over: parsed line, body a view. */
function received(line, body) {
  const msg = parseLine(line);
  return body === undefined ? msg : { ...msg, body };
}

const events = received('EVENTS seq=1048577;count=1300;bytes=262144', Buffer.alloc(262144));
const status = received('STATUS');
const made = received('FROBNICATE level=3');

let handled = 0;
let replies = 0;
const ctx = {
  reply() {
    replies += 1;
  },
  peer: Object.freeze({ transport: 'tcp', remote: '127.0.0.1:40000', local: true, secure: false }),
};
const count = () => {
  handled += 1;
};

/** A collector-like table: the session's and control's exact matches plus the standard handlers. */
function table(options) {
  const dispatcher = new Dispatcher({ coverage: null, ...options });
  for (const command of ['EVENTS', 'REGISTER', 'PAUSE', 'UNPAUSE', 'LOG', 'STOP', 'QUIT']) {
    dispatcher.on(command, count);
  }
  dispatcher.onMatch(/^STAT/, count);
  installStandardHandlers(dispatcher);
  return dispatcher;
}

const checked = table({ definitions: DEFINITIONS });
const unchecked = table({});
const counted = new Dispatcher({ definitions: DEFINITIONS });
counted.on('EVENTS', count);

// Each case is checked before it is timed: a fast wrong answer measures nothing.
check(checked.dispatch(events, ctx) === 'handled' && handled === 1, 'EVENTS reaches its handler');
check(unchecked.dispatch(status, ctx) === 'handled' && handled === 2, 'STATUS reaches the regex');
check(checked.dispatch(made, ctx) === 'invalid' && replies === 1, 'an undefined command gets UNKNOWN');
check(unchecked.dispatch(made, ctx) === 'handled' && replies === 2, 'the catch-all answers UNKNOWN');

header('dispatcher (shared/dispatcher)');
bench('EVENTS, exact match, definitions check on', 'dispatches/s', () => {
  for (let i = 0; i < BATCH; i++) keep(checked.dispatch(events, ctx).length);
  return BATCH;
});
bench('EVENTS, exact match, definitions check on, coverage counted', 'dispatches/s', () => {
  for (let i = 0; i < BATCH; i++) keep(counted.dispatch(events, ctx).length);
  return BATCH;
});
bench('EVENTS, exact match, no definitions', 'dispatches/s', () => {
  for (let i = 0; i < BATCH; i++) keep(unchecked.dispatch(events, ctx).length);
  return BATCH;
});
bench('STATUS, regex match, definitions check on', 'dispatches/s', () => {
  for (let i = 0; i < BATCH; i++) keep(checked.dispatch(status, ctx).length);
  return BATCH;
});
bench('FROBNICATE, no match, catch-all answers UNKNOWN, no definitions', 'dispatches/s', () => {
  for (let i = 0; i < BATCH; i++) keep(unchecked.dispatch(made, ctx).length);
  return BATCH;
});
