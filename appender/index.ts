import { type Appender, createAppender } from './appender.js';

/**
 * The module pino loads for `pino.transport({ target: 'logwire/appender', options })`, in its
 * worker thread: the default export takes the plain-data options and resolves with the stream at
 * once, without waiting for a connection (pino waits for it before the first write).
 */
export default async function logwireAppender(options: unknown): Promise<Appender> {
  return createAppender(withoutPinoKeys(options));
}

/** Keys pino and thread-stream add to a transport's options; they are not ours to check. */
const PINO_KEYS = ['$context', 'pinoWillSendConfig'];

function withoutPinoKeys(options: unknown): unknown {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return options;
  const own = { ...(options as Record<string, unknown>) };
  for (const key of PINO_KEYS) delete own[key];
  return own;
}

export { Appender, type AppenderCounters, type AppenderDeps, createAppender } from './appender.js';
export { type AppenderOptions, parseAppenderOptions } from './options.js';
export { createThreadedAppender, ThreadedAppender } from './threaded.js';
