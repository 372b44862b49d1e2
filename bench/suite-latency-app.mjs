/**
 * The app of the suite's latency case: pino.transport with logwire/appender, logging LW_RATE
 * records/s for LW_SECONDS, each record carrying `t`, the wall-clock ms (sub-ms) it was logged.
 */

import pino from 'pino';

const rate = Number(process.env.LW_RATE);
const seconds = Number(process.env.LW_SECONDS);
const transport = pino.transport({
  target: 'logwire/appender',
  options: { address: `tcp/127.0.0.1:${process.env.LW_PORT}`, service: 'latency' },
});
const logger = pino({ name: 'latency' }, transport);
const TICK_MS = 5;
const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));
const end = performance.now() + seconds * 1000;
let next = performance.now();
while (performance.now() < end) {
  for (let k = 0; k < perTick; k++) logger.info({ t: performance.timeOrigin + performance.now() }, 'latency');
  next += TICK_MS;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
}
