import { type Appender, createAppender } from './appender.js';
import { badOptionsStream, type FallbackOnlyStream } from './bad-options-stream.js';

/**
 * The module pino loads for `pino.transport({ target: 'logwire/appender', options })`, in its
 * worker thread: the default export takes the plain-data options and resolves with the stream at
 * once, without waiting for a connection (pino waits for it before the first write). It never
 * rejects: with bad options it says so on stderr and writes records to the fallback instead.
 */
export default async function logwireAppender(options: unknown): Promise<Appender | FallbackOnlyStream> {
  const own = withoutPinoKeys(options);
  try {
    return await createAppender(own);
  } catch (error) {
    return badOptionsStream(own, error);
  }
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
