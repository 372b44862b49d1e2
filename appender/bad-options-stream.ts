import { Writable } from 'node:stream';
import { createFallback, type Fallback, fallbackName } from '../shared/sender/fallback.js';
import { writeStderr } from './close-report.js';
import { fallbackDespiteBadOptions } from './options.js';

/**
 * What `pino.transport({ target: 'logwire/appender', options })` gets when the options are bad:
 * a stream that writes every record to the fallback (the `fallback` option when it is good, else
 * stderr), after one line on stderr saying what is wrong. A rejected transport would end the app
 * with an unhandled 'error' from pino's thread-stream, and a log shipper must never do that;
 * `createAppender`, called by the app itself, still rejects.
 */
export function badOptionsStream(input: unknown, error: unknown): FallbackOnlyStream {
  const target = fallbackDespiteBadOptions(input);
  const fallback = createFallback(target);
  const reason = error instanceof Error ? error.message : String(error);
  writeStderr(
    `logwire appender: not shipping: ${reason.replace(/\s*\n\s*/g, ' ')}; records go to ${fallbackName(target)}\n`,
  );
  return new FallbackOnlyStream(fallback);
}

/** Records straight to a fallback, written synchronously: `flush` has nothing to wait for. */
export class FallbackOnlyStream extends Writable {
  readonly #fallback: Fallback;

  constructor(fallback: Fallback) {
    super();
    this.#fallback = fallback;
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.#fallback.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    callback();
  }

  override _final(callback: () => void): void {
    this.#fallback.close();
    callback();
  }

  /** As the appender's `flush`: calls back once what was written is where it goes. */
  flush(cb?: (error?: Error | null) => void): void {
    if (cb !== undefined) queueMicrotask(() => cb(null));
  }
}
