import { type Appender, createAppender } from './appender.js';

/**
 * The module pino loads for `pino.transport({ target: 'logwire/appender', options })`, in its
 * worker thread: the default export takes the plain-data options and resolves with the stream at
 * once, without waiting for a connection (pino waits for it before the first write).
 */
export default async function logwireAppender(options: unknown): Promise<Appender> {
  return createAppender(options);
}

export { Appender, type AppenderCounters, type AppenderDeps, createAppender } from './appender.js';
export { type AppenderOptions, parseAppenderOptions } from './options.js';
