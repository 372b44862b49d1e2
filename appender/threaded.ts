import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { type ErrorCode, LogwireError } from '../shared/errors.js';
import { createFallback, type Fallback, fallbackName, recordsIn } from '../shared/sender/fallback.js';
import type { AppenderCounters } from './appender.js';
import { formatLateLine, writeStderr } from './close-report.js';
import { type AppenderOptions, parseAppenderOptions } from './options.js';
import { onProcessExit } from './process-exit.js';
import { createSharedRing, RingProducer } from './shared-ring.js';
import { CLOSE_GRACE } from './shipping.js';
import {
  COUNTER_KEYS,
  THREAD_FAILED,
  THREAD_RUNNING,
  THREAD_STARTING,
  type ThreadData,
  type ToMain,
} from './thread-messages.js';

/**
 * `pino(await createThreadedAppender(options))`: the appender on a shipping thread of its own,
 * fed by the app's thread without thread-stream. pino's transport copies every record twice on
 * the app's thread (a Buffer, then the shared buffer) and decodes it again in the worker, and its
 * worker sees nothing until the app yields. Here the app's thread encodes pino's strings straight
 * into a shared ring (shared-ring.ts) and publishes them every PUBLISH_BYTES: the shipping
 * thread takes them as bytes, and batches and ships while the app is still logging, even in a
 * loop that never yields.
 *
 * A full ring never makes the app wait: lines that do not fit are posted as before (joined every
 * POST_BYTES), and the ring is used again only once the thread has taken everything, ring and
 * posts, so that records stay in order (the thread takes what the ring held before each post).
 *
 * It resolves as soon as the options are checked, in the caller's thread: the shipping thread
 * starts (a thread, the appender's modules, a connection) while the app logs, and what is posted
 * meanwhile waits in the ring and its message port. Until it runs, the app's thread keeps a
 * reference to each text posted, so that a thread that never starts costs nothing silently: they
 * go to fallback, after what the ring holds.
 *
 * At process exit (natural, `process.exit()`, an uncaught exception) the app's thread hands
 * over what it holds, ends the shipping thread's appender and waits for it to close, as pino
 * waits for a transport: everything is acknowledged, spooled, or reported on stderr.
 */

/** Lines posted together: large enough that posting costs nothing per record. */
const POST_BYTES = 256 * 1024;
/** The ring's bytes published together: the thread takes chunks at least this large. */
const PUBLISH_BYTES = 64 * 1024;
const RING_BYTES = 16 * 1024 * 1024;
const WORKER_URL = new URL('./thread-worker.js', import.meta.url);
/**
 * What the exit wait allows beyond closeTimeout and the shipper's teardown: the shipping thread
 * may first have a backlog of posted lines to take, and a large rest to report and write to
 * fallback (pino gives its transports 10 s).
 */
const EXIT_SLACK_MS = 10_000;

/** The shipping thread starts or runs: what is posted reaches an appender (or will). */
function isAlive(state: number): boolean {
  return state === THREAD_STARTING || state === THREAD_RUNNING;
}

/** Not options of the appender: for tests (a tiny ring fills at once). */
export interface ThreadedInternals {
  readonly ringBytes?: number;
}

/**
 * Where the app's thread puts lines: the ring; or, from a write the ring had no room for until
 * the thread has taken everything, the posted texts.
 */
type Path = 'ring' | 'posts';

/** Checks the options (rejects with LW_ERR_BAD_OPTION) and starts the shipping thread. */
export async function createThreadedAppender(
  options: unknown,
  internals: ThreadedInternals = {},
): Promise<ThreadedAppender> {
  // Checked here, so that a bad option throws in the caller's thread with its own stack.
  return new ThreadedAppender(options, parseAppenderOptions(options), internals);
}

export class ThreadedAppender extends EventEmitter {
  /**
   * Settles once the shipping thread's appender exists (rejects if it never does: that is also
   * said on stderr). Logging need not wait for it.
   */
  readonly ready: Promise<void>;
  readonly #worker: Worker;
  /** [0]: THREAD_STARTING, THREAD_RUNNING, then THREAD_CLOSED or THREAD_FAILED (set by the thread). */
  readonly #state = new Int32Array(new SharedArrayBuffer(4));
  readonly #counters = new Float64Array(new SharedArrayBuffer(8 * COUNTER_KEYS.length));
  readonly #closeTimeout: number;
  /** For lines the shipping thread can no longer take (after end(), a failure, or exit). */
  readonly #fallback: Fallback;
  readonly #fallbackName: string | undefined;
  readonly #ring: RingProducer;
  #path: Path = 'ring';
  /** Texts posted (on the 'posts' path), for RingProducer.caughtUp. */
  #posted = 0;
  #publishScheduled = false;
  readonly #lines: string[] = [];
  #bytes = 0;
  /** Texts posted while the thread starts: to fallback if it never runs (#keepUntilRunning). */
  #unconfirmed: string[] = [];
  #postScheduled = false;
  #ended = false;
  #closed = false;
  /** The process 'exit' hook ran: nothing asynchronous happens any more. */
  #exited = false;
  #settleReady: ((error?: Error) => void) | undefined;
  readonly #flushes = new Map<number, () => void>();
  #nextFlush = 0;
  /** Records the shipping thread could not take, and how many of them were reported. */
  #late = 0;
  #lateSaid = 0;
  #lateCause = 'end()';

  constructor(options: unknown, parsed: AppenderOptions, internals: ThreadedInternals = {}) {
    super();
    this.#closeTimeout = parsed.closeTimeout;
    this.#fallback = createFallback(parsed.fallback);
    this.#fallbackName = fallbackName(parsed.fallback);
    const ring = createSharedRing(internals.ringBytes ?? RING_BYTES);
    this.#ring = new RingProducer(ring);
    const workerData: ThreadData = { options, state: this.#state, counters: this.#counters, ring };
    this.#worker = new Worker(WORKER_URL, { workerData });
    this.ready = new Promise((resolve, reject) => {
      this.#settleReady = (error) => {
        this.#settleReady = undefined;
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    // Nobody need await it: a failure is said on stderr, never an unhandled rejection.
    this.ready.catch(() => undefined);
    this.#worker.on('message', (message: ToMain) => this.#onMessage(message));
    this.#worker.on('error', (error) => this.#onFailure(`the shipping thread failed: ${error.message}`));
    this.#worker.on('exit', () => this.#onFailure('the shipping thread exited'));
    // Kept for the whole life of the process: late lines are reported at exit too.
    onProcessExit(() => this.#onProcessExit());
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
    if (this.#ended || this.#closed) {
      this.#lost(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      return false;
    }
    if (this.#path === 'posts' && this.#lines.length === 0 && this.#ring.caughtUp(this.#posted)) {
      this.#path = 'ring';
    }
    if (this.#path === 'ring') {
      if (typeof chunk === 'string' ? this.#ring.writeString(chunk) : this.#ring.writeBytes(chunk)) {
        if (this.#ring.unpublished >= PUBLISH_BYTES) this.#publish();
        else if (!this.#publishScheduled) {
          this.#publishScheduled = true;
          setImmediate(this.#publishLater);
        }
        return true;
      }
      // Full: what it holds goes first, then the posts, until the thread has taken all.
      this.#publish();
      this.#path = 'posts';
    }
    const lines = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
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
    if (this.#closed || !this.#threadAlive()) {
      queueMicrotask(() => cb?.(null));
      return;
    }
    this.#publish();
    this.#post();
    const id = ++this.#nextFlush;
    this.#flushes.set(id, () => cb?.(null));
    this.#worker.ref();
    this.#worker.postMessage({ type: 'flush', id });
  }

  /** Ends: the shipping thread delivers or reports everything, then 'close' is emitted. */
  end(): this {
    if (this.#ended || this.#closed) return this;
    this.#publish();
    this.#post();
    this.#ended = true;
    this.#worker.ref();
    this.#worker.postMessage({ type: 'end' });
    return this;
  }

  readonly #publishLater = (): void => {
    this.#publishScheduled = false;
    this.#publish();
  };

  /** Makes the ring's lines visible to the thread, and wakes it if it sleeps. */
  #publish(): void {
    if (this.#ring.publish() && !this.#closed && this.#threadAlive()) {
      this.#worker.postMessage({ type: 'wake' });
    }
  }

  /** The ring's lines the thread never took (it is gone): to fallback, before any later text. */
  #loseRing(): void {
    const rest = this.#ring.takeBack();
    if (rest !== undefined) this.#lost(rest);
  }

  readonly #postLater = (): void => {
    this.#postScheduled = false;
    this.#post();
  };

  /** Hands the lines held to the shipping thread, or, once it cannot take them, to fallback. */
  #post(): void {
    if (this.#lines.length === 0) return;
    const text = this.#lines.length === 1 ? this.#lines[0]! : this.#lines.join('');
    this.#lines.length = 0;
    this.#bytes = 0;
    if (this.#closed || this.#ended || !this.#threadAlive()) this.#lost(text);
    else {
      this.#worker.postMessage(text);
      this.#posted++;
      this.#keepUntilRunning(text);
    }
  }

  /**
   * A text posted while the thread starts stays referenced here (not copied) until the thread
   * runs: it installs its message listener before it says so, so a text posted before that is
   * either delivered by its appender or, if it never runs, never taken by it.
   */
  #keepUntilRunning(text: string): void {
    if (Atomics.load(this.#state, 0) === THREAD_STARTING) this.#unconfirmed.push(text);
    else if (this.#unconfirmed.length > 0) this.#unconfirmed = [];
  }

  /** The texts the thread never took, since it never ran: to fallback, counted. */
  #loseUnconfirmed(): void {
    const texts = this.#unconfirmed;
    this.#unconfirmed = [];
    for (const text of texts) this.#lost(text);
  }

  /** The thread's appender existed (it may have closed or crashed since). */
  #ran(): boolean {
    const state = Atomics.load(this.#state, 0);
    return state !== THREAD_STARTING && state !== THREAD_FAILED;
  }

  /** Starting or running: posts reach an appender (or will). */
  #threadAlive(): boolean {
    return isAlive(Atomics.load(this.#state, 0));
  }

  #onMessage(message: ToMain): void {
    if (message.type === 'ready') {
      // Like pino's transports, the thread does not keep the process alive once started: exit
      // waits for it (#onProcessExit). Until then it does, so that start-up can finish.
      if (!this.#ended && this.#flushes.size === 0) this.#worker.unref();
      this.#unconfirmed = [];
      this.#settleReady?.();
    } else if (message.type === 'failed') {
      this.#settleReady?.(
        new LogwireError((message.code ?? 'LW_ERR_BAD_OPTION') as ErrorCode, message.message),
      );
      this.#onFailure(`the shipping thread could not start: ${message.message}`);
    } else if (message.type === 'flushed') {
      this.#flushes.get(message.id)?.();
      this.#flushes.delete(message.id);
      if (this.#flushes.size === 0 && !this.#ended) this.#worker.unref();
    } else {
      this.#finish();
    }
  }

  /** The thread ended or crashed without closing its appender: say so once, never throw. */
  #onFailure(reason: string): void {
    if (this.#closed) return;
    this.#settleReady?.(new LogwireError('LW_ERR_CLOSED', `${reason} before it was ready`));
    const fate = this.#fallbackName === undefined ? 'are lost' : `go to fallback ${this.#fallbackName}`;
    if (this.#ran()) {
      this.#unconfirmed = [];
      const queued = this.counters.queued;
      writeStderr(
        `logwire appender: ${reason} before closing: up to ${queued} records it held are lost; records logged from now on ${fate} (counted at exit)\n`,
      );
    } else {
      // It never ran: what was posted to it is still here, and goes where later records go.
      writeStderr(`logwire appender: ${reason}; records logged ${fate} (counted at exit)\n`);
    }
    this.#lateCause = 'the shipping thread stopped';
    this.#finish();
    this.#loseRing();
    this.#loseUnconfirmed();
    this.#post();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const done of this.#flushes.values()) done();
    this.#flushes.clear();
    this.#worker.unref();
    this.emit('close');
  }

  /** Lines the shipping thread cannot take: to fallback, counted, reported at exit (or now). */
  #lost(lines: string | Buffer): void {
    const body = typeof lines === 'string' ? Buffer.from(lines) : lines;
    const records = recordsIn(body);
    if (records === 0) return;
    this.#fallback.write(body);
    this.#late += records;
    // After the exit hook, no later moment comes to report them.
    if (this.#exited) this.#sayLate();
  }

  #sayLate(): void {
    const records = this.#late - this.#lateSaid;
    if (records === 0) return;
    this.#lateSaid = this.#late;
    writeStderr(formatLateLine(records, this.#lateCause, this.#fallbackName));
  }

  /**
   * The process exits: hand over what is held, end the shipping thread's appender, and wait for
   * it here (the only way at 'exit'), as pino waits for a transport. Its close is bounded by
   * closeTimeout and reports what it could not deliver itself.
   */
  #onProcessExit(): void {
    if (!this.#closed && this.#threadAlive()) {
      if (!this.#ended) {
        this.#publish();
        this.#post();
        this.#ended = true;
        this.#lateCause = 'the exit report';
        this.#worker.postMessage({ type: 'end' });
      }
      const limit = this.#closeTimeout + 2 * CLOSE_GRACE + EXIT_SLACK_MS;
      if (!this.#waitWhileAlive(limit)) {
        writeStderr(
          `logwire appender: the shipping thread did not close within ${limit} ms of exit: up to ${this.counters.queued} records (its last count) may be lost\n`,
        );
      }
      // A thread that failed to start (or is starting still) never took what was posted to it.
      if (!this.#ran()) {
        this.#loseRing();
        this.#loseUnconfirmed();
      }
    }
    this.#post();
    this.#exited = true;
    this.#closed = true;
    this.#sayLate();
  }

  /** Blocks while the thread starts or runs, up to `limit` ms; false when it timed out. */
  #waitWhileAlive(limit: number): boolean {
    const until = performance.now() + limit;
    for (;;) {
      const state = Atomics.load(this.#state, 0);
      if (!isAlive(state)) return true;
      const left = until - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.#state, 0, state, left);
    }
  }
}
