/**
 * The message codec alone (issue #2): parseLine and formatLine in messages/s, and the frame
 * decoder in MB/s (10^6 bytes) on 256 KiB EVENTS bodies of pino JSON lines, pushed in 64 KiB
 * chunks as sockets deliver them and in one chunk, then small messages (ACK, ALIVE).
 *
 *   npm run build && node bench/codec.mjs
 *   LOGWIRE_DIST=/tmp/lw-bench-dist node bench/codec.mjs     (a build elsewhere)
 */

import { bench, check, header, keep, load, measure, random, report } from './measure.mjs';

const { parseLine, formatLine } = await load('shared/protocol/line.js');
const { encodeMessageToBuffer } = await load('shared/protocol/encode.js');
const { FrameDecoder } = await load('shared/protocol/frame-decoder.js');
const { message } = await load('shared/protocol/message.js');

const BODY_LIMIT = 256 * 1024;
const CHUNK = 64 * 1024;
const BATCH = 10_000;

const MESSAGES = [
  'request completed',
  'incoming request',
  'cache miss, loading from the database',
  'user signed in',
  'payment authorised',
];
const ROUTES = ['/api/orders', '/api/users/me', '/health', '/api/cart/items', '/api/search?q=shoes'];

/** One pino-shaped line of about 200 bytes, LF included. */
function record(next, i) {
  const pick = (list) => list[Math.floor(next() * list.length)];
  return `${JSON.stringify({
    level: next() < 0.9 ? 30 : 40,
    time: 1732370000000 + i * 3,
    pid: 4242,
    hostname: 'web-01',
    reqId: `req-${(1e6 + i).toString(36)}`,
    req: { method: next() < 0.7 ? 'GET' : 'POST', url: pick(ROUTES) },
    res: { statusCode: next() < 0.95 ? 200 : 503 },
    responseTime: Math.round(next() * 2500) / 10,
    msg: pick(MESSAGES),
  })}\n`;
}

/** Whole records up to 256 KiB: one EVENTS body as the batcher makes it. */
function eventsBody(next, firstRecord) {
  const parts = [];
  let size = 0;
  for (let i = firstRecord; ; i++) {
    const line = record(next, i);
    if (size + line.length > BODY_LIMIT) break;
    parts.push(line);
    size += line.length;
  }
  return { body: Buffer.from(parts.join(''), 'utf8'), count: parts.length };
}

function split(buffer, size) {
  const chunks = [];
  for (let at = 0; at < buffer.length; at += size) chunks.push(buffer.subarray(at, at + size));
  return chunks;
}

/** A decoder whose sink counts what comes out; `errors` must stay 0. */
function counting() {
  const seen = { messages: 0, bodyBytes: 0, errors: 0 };
  const decoder = new FrameDecoder(
    {},
    {
      message(msg) {
        seen.messages += 1;
        if (msg.body !== undefined) seen.bodyBytes += msg.body.length;
      },
      error() {
        seen.errors += 1;
      },
    },
  );
  return { decoder, seen };
}

// ── the inputs ───────────────────────────────────────────────────────────────────────────────

const next = random(42);
const STREAM_BATCHES = 16;
const streamParts = [];
const eventsMessages = [];
let firstRecord = 0;
let recordsInStream = 0;
let bodyBytesInStream = 0;
for (let seq = 1; seq <= STREAM_BATCHES; seq++) {
  const { body, count } = eventsBody(next, firstRecord);
  const events = message('EVENTS', { seq: firstRecord + 1, count }, body);
  eventsMessages.push(events);
  streamParts.push(encodeMessageToBuffer(events));
  firstRecord += count;
  recordsInStream += count;
  bodyBytesInStream += body.length;
}
const stream = Buffer.concat(streamParts);
const streamChunks = split(stream, CHUNK);
const perBody = recordsInStream / STREAM_BATCHES;

const SMALL_COUNT = 20_000;
const smallParts = [];
for (let i = 1; i <= SMALL_COUNT; i++) {
  smallParts.push(i % 2 === 0 ? `ACK seq=${1_000_000 + i * 1300}\n` : `ALIVE serial=${i}\n`);
}
const small = Buffer.from(smallParts.join(''), 'utf8');
const smallChunks = split(small, CHUNK);

// A late batch: seq and count have their full width.
const eventsMsg = eventsMessages.at(-1);
const eventsLine = formatLine(eventsMsg).slice(0, -1);
const registerMsg = message('REGISTER', {
  version: 1,
  source: 'web-01.3f9c2a7e',
  service: 'checkout-api',
  host: 'web-01.example.internal',
  next: 1048577,
  first: 1,
  pid: 4242,
  // Quoted (a ';' and a leading '"'), with \" \\ \n inside and a trailing backslash.
  token: '"tok;en"\\with\nescapes\\',
});
const registerLine = formatLine(registerMsg).slice(0, -1);

// Each case is checked before it is timed: a fast wrong answer measures nothing.
check(parseLine(registerLine).params.token === registerMsg.params.token, 'REGISTER token round-trips');
check(registerLine.includes('token="\\"tok;en\\"\\\\with\\nescapes\\\\"'), 'REGISTER token is quoted');
for (const chunks of [streamChunks, [stream]]) {
  const { decoder, seen } = counting();
  for (const chunk of chunks) decoder.push(chunk);
  check(seen.errors === 0 && seen.messages === STREAM_BATCHES, 'every EVENTS message decoded');
  check(seen.bodyBytes === bodyBytesInStream, 'every body byte delivered');
}
{
  const { decoder, seen } = counting();
  for (const chunk of smallChunks) decoder.push(chunk);
  check(seen.errors === 0 && seen.messages === SMALL_COUNT, 'every small message decoded');
}

// ── the cases ────────────────────────────────────────────────────────────────────────────────

header('codec (shared/protocol)');
console.log(`# EVENTS line: ${eventsLine}`);
console.log(`# REGISTER line: ${registerLine}`);
console.log(
  `# stream: ${STREAM_BATCHES} EVENTS of ~${Math.round(perBody)} records ` +
    `(${Math.round(stream.length / recordsInStream)} B/record), ${stream.length} bytes`,
);

bench('parseLine EVENTS', 'messages/s', () => {
  for (let i = 0; i < BATCH; i++) keep(parseLine(eventsLine).command.length);
  return BATCH;
});
bench('parseLine REGISTER (quoted, escaped values)', 'messages/s', () => {
  for (let i = 0; i < BATCH; i++) keep(parseLine(registerLine).params.token.length);
  return BATCH;
});
bench('formatLine EVENTS (with body)', 'messages/s', () => {
  for (let i = 0; i < BATCH; i++) keep(formatLine(eventsMsg).length);
  return BATCH;
});
bench('formatLine REGISTER (quoted, escaped values)', 'messages/s', () => {
  for (let i = 0; i < BATCH; i++) keep(formatLine(registerMsg).length);
  return BATCH;
});
const chunked = measure(() => {
  const { decoder, seen } = counting();
  for (const chunk of streamChunks) decoder.push(chunk);
  keep(seen.messages);
  return stream.length;
});
report('FrameDecoder, 256 KiB EVENTS bodies, 64 KiB chunks', chunked, 'MB/s');
report('  the same, counted in records', (chunked / stream.length) * recordsInStream, 'records/s');
bench('FrameDecoder, 256 KiB EVENTS bodies, whole stream in one chunk', 'MB/s', () => {
  const { decoder, seen } = counting();
  decoder.push(stream);
  keep(seen.messages);
  return stream.length;
});
bench('FrameDecoder, small messages (ACK, ALIVE), 64 KiB chunks', 'messages/s', () => {
  const { decoder, seen } = counting();
  for (const chunk of smallChunks) decoder.push(chunk);
  keep(seen.messages);
  return SMALL_COUNT;
});
