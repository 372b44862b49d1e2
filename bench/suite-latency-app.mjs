/**
 * The app of the suite's latency case: pino.transport with logwire/appender, logging LW_RATE
 * records/s, each record carrying `t`, the time it was logged in ms of CLOCK_MONOTONIC
 * (process.hrtime: the same clock in every process on the machine, unlike wall-clock readings
 * taken from each process's own time origin).
 *
 * Steady state only: the app waits for the transport's worker to be ready, then logs for
 * LW_WARMUP_SECONDS (default 1) records marked `"warmup":true` (the session's handshake, the
 * JIT warming up: the reader leaves them out), then LW_SECONDS of measured records. Records
 * logged before the worker has loaded would wait for its start-up, which is not this latency
 * (the appender's start-up is part of the suite's appender comparison).
 *
 * env: LW_BENCH_TARGET (another build's appender/index.js, by absolute path), LW_LATENCY_OPTIONS
 * (more appender options, as JSON).
 */

import pino from 'pino';

const rate = Number(process.env.LW_RATE);
const seconds = Number(process.env.LW_SECONDS);
const warmupSeconds = Number(process.env.LW_WARMUP_SECONDS ?? 1);
const transport = pino.transport({
  target: process.env.LW_BENCH_TARGET || 'logwire/appender',
  options: {
    address: `tcp/127.0.0.1:${process.env.LW_PORT}`,
    service: 'latency',
    ...JSON.parse(process.env.LW_LATENCY_OPTIONS || '{}'),
  },
});
await new Promise((resolve) => transport.once('ready', resolve));
const logger = pino({ name: 'latency' }, transport);
const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;
const TICK_MS = 5;
const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));

async function logFor(duration, fields) {
  const end = performance.now() + duration * 1000;
  let next = performance.now();
  while (performance.now() < end) {
    for (let k = 0; k < perTick; k++) logger.info({ t: monotonicMs(), ...fields }, 'latency');
    next += TICK_MS;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
  }
}

await logFor(warmupSeconds, { warmup: true });
await logFor(seconds, {});
