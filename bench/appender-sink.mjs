/**
 * An instant-acking sink for bench/appender.mjs (LW_BENCH_SINK=instant).
 * tcp listener: REGISTER → READY last=0, each EVENTS → ACK seq=<last> at once, nothing on disk.
 * ndjson listener: counts LFs. Reports {records, at} to the parent over IPC every 10 ms when changed.
 */
import { createServer } from 'node:net';

const DIST = process.env.LW_SINK_DIST ?? new URL('../dist/', import.meta.url).href;
const { FrameDecoder } = await import(new URL('shared/protocol/frame-decoder.js', DIST).href);

/** LW_SINK_ACK_DELAY_MS: hold each ACK that long (a collector's ack latency, without its CPU). */
const ACK_DELAY_MS = Number(process.env.LW_SINK_ACK_DELAY_MS ?? 0);
let records = 0;
let at = 0;
let reported = -1;
const now = () => Number(process.hrtime.bigint()) / 1e6;

const tcp = createServer((socket) => {
  socket.setNoDelay(true);
  const decoder = new FrameDecoder(
    {},
    {
      message(msg) {
        if (msg.command === 'REGISTER') socket.write('READY version=1;last=0;max_body=16777216\n');
        else if (msg.command === 'EVENTS') {
          const seq = Number(msg.params.seq);
          const count = Number(msg.params.count);
          records += count;
          at = now();
          const ack = `ACK seq=${seq + count - 1}\n`;
          if (ACK_DELAY_MS > 0) setTimeout(() => socket.write(ack), ACK_DELAY_MS);
          else socket.write(ack);
        } else if (msg.command === 'ALIVE') socket.write(`ABSOLUTELY serial=${msg.params.serial}\n`);
      },
      error(err) {
        if (err.fatal) socket.destroy();
      },
    },
  );
  socket.on('data', (chunk) => decoder.push(chunk));
  socket.on('error', () => {});
});
const ndjson = createServer((socket) => {
  socket.on('data', (chunk) => {
    let n = 0;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
    if (n > 0) {
      records += n;
      at = now();
    }
  });
  socket.on('error', () => {});
});
await new Promise((r) => tcp.listen(0, '127.0.0.1', r));
await new Promise((r) => ndjson.listen(0, '127.0.0.1', r));
process.stderr.write(
  `listening tcp/127.0.0.1:${tcp.address().port}\nlistening ndjson/127.0.0.1:${ndjson.address().port}\n`,
);
setInterval(() => {
  if (records !== reported) {
    reported = records;
    process.send({ records, at });
  }
}, 10);
process.on('SIGTERM', () => process.exit(0));
