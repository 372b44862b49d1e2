import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { type ErrorCode, LogwireError } from '../shared/errors.js';
import { createFallback, type Fallback } from '../shared/sender/fallback.js';
import type { AppenderCounters } from './appender.js';
import { writeStderr } from './close-report.js';
import { type AppenderOptions, parseAppenderOptions } from './options.js';
import { onProcessExit } from './process-exit.js';
import { CLOSE_GRACE } from './shipper.js';
import { COUNTER_KEYS, type ThreadData, type ToMain } from './thread-messages.js';

/**
 * `pino(await createThreadedAppender(options))`: the appender on a shipping thread of its own,
 * fed by the app's thread without thread-stream. pino's transport copies every record twice on
 * the app's thread (a Buffer, then the shared buffer) and decodes it again in the worker, and its
 * worker sees nothing until the app yields. Here the app's thread keeps pino's strings, joins
 * them every POST_BYTES and posts the text (one copy): the shipping thread batches and ships
 * while the app is still logging, even in a loop that never yields.
 *
 * At process exit (natural, `process.exit()`, an uncaught exception) the app's thread hands
 * over what it holds, ends the shipping thread's appender and waits for it to close, as pino
 * waits for a transport: everything is acknowledged, spooled, or reported on stderr.
 */

/** Lines posted together: large enough that posting costs nothing per record. */
const POST_BYTES = 256 * 1024;
const WORKER_URL = new URL('./thread-worker.js', import.meta.url);

/** Starts the shipping thread and resolves once its appender is up (options and spool checked). */
export async function createThreadedAppender(options: unknown): Promise<ThreadedAppender> {
  // Checked here too, so that a bad option throws in the caller's thread with its own stack.
  const appender = new ThreadedAppender(options, parseAppenderOptions(options));
  await appender.ready;
  return appender;
}

export class ThreadedAppender extends EventEmitter {
  /** Settles once the shipping thread's appender exists (rejects with its creation error). */
  readonly ready: Promise<void>;
  readonly #worker: Worker;
  readonly #state = new Int32Array(new SharedArrayBuffer(4));
  readonly #counters = new Float64Array(new SharedArrayBuffer(8 * COUNTER_KEYS.length));
  readonly #closeTimeout: number;
  /** For lines that arrive once the shipping thread is gone (an 'exit' listener of the app). */
  readonly #fallback: Fallback;
  readonly #fallbackName: string | undefined;
  readonly #lines: string[] = [];
  #bytes = 0;
  #postScheduled = false;
  #ended = false;
  #closed = false;
  readonly #flushes = new Map<number, () => void>();
  #nextFlush = 0;
  readonly #unhookExit: () => void;

  constructor(options: unknown, parsed: AppenderOptions) {
    super();
    this.#closeTimeout = parsed.closeTimeout;
    this.#fallback = createFallback(parsed.fallback);
    this.#fallbackName =
      parsed.fallback === undefined
        ? undefined
        : parsed.fallback === 'stderr'
          ? 'stderr'
          : parsed.fallback.path;
    const workerData: ThreadData = { options, state: this.#state, counters: this.#counters };
    this.#worker = new Worker(WORKER_URL, { workerData });
    this.ready = new Promise((resolve, reject) => {
      this.#worker.on('message', (message: ToMain) => {
        if (message.type === 'ready') {
          // Like pino's transports, the thread does not keep the process alive once started:
          // exit waits for it (#onProcessExit). Until then it does, so start-up can finish.
          if (!this.#ended && this.#flushes.size === 0) this.#worker.unref();
          resolve();
        } else if (message.type === 'failed') {
          // Nothing was taken yet: the caller gets the error, nothing else is said.
          this.#closed = true;
          this.#unhookExit();
          reject(new LogwireError((message.code ?? 'LW_ERR_BAD_OPTION') as ErrorCode, message.message));
        } else this.#onMessage(message);
      });
    });
    this.#worker.on('error', (error) => this.#onFailure(error.message));
    this.#worker.on('exit', () => this.#onFailure('the shipping thread exited'));
    this.#unhookExit = onProcessExit(() => this.#onProcessExit());
  }

  /** The shipping thread's counters, as it last published them. */
  get counters(): AppenderCounters {
    const values = this.#counters;
    return Object.freeze(
      Object.fromEntries(COUNTER_KEYS.map((key, i) => [key, values[i]!])) as Record<
        keyof AppenderCounters,
        number
      >,
    );
  }

  /** Takes record lines (pino writes one per call). Never throws, never blocks. */
  write(chunk: string | Buffer): boolean {
    const lines = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (this.#closed) {
      this.#lost(lines);
      return false;
    }
    this.#lines.push(lines);
    this.#bytes += lines.length;
    if (this.#bytes >= POST_BYTES) this.#post();
    else if (!this.#postScheduled) {
      this.#postScheduled = true;
      setImmediate(this.#postLater);
    }
    return true;
  }

  /** Calls back once everything written so far is acknowledged or spooled (or closeTimeout passed). */
  flush(cb?: (error?: Error | null) => void): void {
    if (this.#closed) {
      queueMicrotask(() => cb?.(null));
      return;
    }
    this.#post();
    const id = ++this.#nextFlush;
    this.#flushes.set(id, () => cb?.(null));
    this.#worker.ref();
    this.#worker.postMessage({ type: 'flush', id });
  }

  /** Ends: the shipping thread delivers or reports everything, then 'close' is emitted. */
  end(): this {
    if (this.#ended || this.#closed) return this;
    this.#ended = true;
    this.#post();
    this.#worker.ref();
    this.#worker.postMessage({ type: 'end' });
    return this;
  }

  readonly #postLater = (): void => {
    this.#postScheduled = false;
    this.#post();
  };

  #post(): void {
    if (this.#lines.length === 0 || this.#closed) return;
    const text = this.#lines.length === 1 ? this.#lines[0]! : this.#lines.join('');
    this.#lines.length = 0;
    this.#bytes = 0;
    this.#worker.postMessage(text);
  }

  #onMessage(message: ToMain): void {
    if (message.type === 'flushed') {
      this.#flushes.get(message.id)?.();
      this.#flushes.delete(message.id);
      if (this.#flushes.size === 0 && !this.#ended) this.#worker.unref();
    } else if (message.type === 'closed') {
      this.#finish();
    }
  }

  /** The thread ended or crashed without closing its appender: say so, never throw. */
  #onFailure(reason: string): void {
    if (this.#closed) return;
    writeStderr(`logwire appender: ${reason} before closing; records it had not acknowledged may be lost\n`);
    this.#lost(this.#lines.join(''));
    this.#lines.length = 0;
    this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unhookExit();
    for (const done of this.#flushes.values()) done();
    this.#flushes.clear();
    this.#worker.unref();
    this.emit('close');
  }

  #lost(lines: string): void {
    let records = 0;
    for (let at = lines.indexOf('\n'); at !== -1; at = lines.indexOf('\n', at + 1)) records += 1;
    if (records === 0) return;
    this.#fallback.write(Buffer.from(lines));
    const fate =
      this.#fallbackName === undefined ? 'are lost' : `were written to fallback ${this.#fallbackName}`;
    writeStderr(`logwire appender: ${records} records logged after close ${fate}\n`);
  }

  /**
   * The process exits: hand over what is held, end the shipping thread's appender, and wait for
   * it here (the only way at 'exit'), as pino waits for a transport. Its close is bounded by
   * closeTimeout and reports what it could not deliver itself.
   */
  #onProcessExit(): void {
    if (this.#closed) return;
    this.#post();
    if (!this.#ended) {
      this.#ended = true;
      this.#worker.postMessage({ type: 'end' });
    }
    const waited = Atomics.wait(this.#state, 0, 0, this.#closeTimeout + 2 * CLOSE_GRACE);
    if (waited === 'timed-out')
      writeStderr(
        'logwire appender: the shipping thread did not close in time at exit; records may be lost\n',
      );
    // No event loop turn comes any more: what is written now (a later 'exit' listener) is late.
    this.#closed = true;
  }
}
