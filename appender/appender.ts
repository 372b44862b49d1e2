import { Writable } from 'node:stream';
import { type Clock, createSystemClock, systemClock } from '../shared/net/clock.js';
import type { ClientState, ConnectFn } from '../shared/net/permanent-client.js';
import { formatAddress } from '../shared/protocol/address.js';
import { fallbackName, recordsIn } from '../shared/sender/fallback.js';
import { formatLateLine, writeStderr } from './close-report.js';
import { DeliveryNotices } from './delivery-notices.js';
import { giveUp } from './give-up.js';
import { AppenderLifecycle } from './lifecycle.js';
import { type AppenderOptions, parseAppenderOptions, scriptName } from './options.js';
import { Pipeline } from './pipeline.js';
import { onProcessExit } from './process-exit.js';
import { CLOSE_GRACE, chooseStore, type StoreChoice } from './shipping.js';
import { Conditions, withTimeout } from './wait-until.js';

/**
 * The pino transport stream (issue #4). pino's worker (or an in-process logger) writes chunks of
 * record lines; they flow, without a per-record allocation, through
 *
 *   write ─▶ intake ─▶ batcher ─▶ record queue ─▶ shipper (session §4 | UDP §7 | NDJSON §10)
 *            (defer)    (cut)      (bounded,        ─▶ collector
 *                                   drops counted)
 *
 * That path is pipeline.ts, one way; this file is the Writable and its life (lifecycle.ts):
 * flush, close and exit. Giving up on delivery, with its report, is give-up.ts.
 *
 * What pino needs of it (docs/appender.md, PINO-NOTES): it is returned before any connection;
 * it keeps reading its input even while the collector is down (only the queue's policy bounds
 * memory); it never emits 'error'; `flush(cb)` calls back once what was written is acknowledged
 * or spooled; and at end it waits, within `closeTimeout`, until everything is acknowledged or
 * spooled, reports the rest on stderr with a count, and only then emits 'close'.
 *
 * pino-abstract-transport's `build` is not used: it splits every chunk into one string per line
 * and JSON-parses each (even with `parse: 'lines'`), which costs more than all the rest of the
 * appender's per-record work together. The stream is a plain Writable, as pino-socket's is.
 */

/** Live counters, in records. */
export interface AppenderCounters {
  /** Put on the wire (resends included). */
  readonly sent: number;
  /** Acknowledged by a collector (a session only). */
  readonly acknowledged: number;
  /** Held now: waiting, in flight or in the spool, not yet acknowledged. */
  readonly queued: number;
  /** Dropped: queue overflow, too large, or undelivered at close. */
  readonly dropped: number;
  /** Written to the spool. */
  readonly spooled: number;
  /** Connections after the first. */
  readonly reconnects: number;
}

/** In-process hooks, for tests and embedding; options stay plain data. */
export interface AppenderDeps {
  /** Timers of the batcher and the connection; default real timers that do not hold the process. */
  readonly clock?: Clock;
  /** Opens links; default the real transports. */
  readonly connect?: ConnectFn;
  /** Where the close report and warnings go; default a synchronous write to fd 2. */
  readonly stderr?: (line: string) => void;
}

/** How long stopping the connection and the store may take after closeTimeout. */
const TEARDOWN_MS = CLOSE_GRACE;
type WriteCallback = (error?: Error | null) => void;

/**
 * Creates the appender: checks the options (throws LW_ERR_BAD_OPTION), opens the spool when one
 * is set, and resolves with the stream at once: connecting happens in the background.
 */
export async function createAppender(input: unknown, deps: AppenderDeps = {}): Promise<Appender> {
  const options = parseAppenderOptions(input);
  const stderr = deps.stderr ?? writeStderr;
  const store = options.delivery === 'session' ? await chooseStore(options, stderr) : undefined;
  return new Appender(options, store, deps);
}

export class Appender extends Writable {
  readonly options: AppenderOptions;
  readonly #stderr: (line: string) => void;
  readonly #pipeline: Pipeline;
  readonly #life = new AppenderLifecycle();
  /** Records written after delivery was given up, or given up on: to fallback, counted. */
  #undelivered = 0;
  readonly #conditions: Conditions;
  /** The clock closing waits on: real timers that keep the process up while they run. */
  readonly #closeClock: Clock;
  /** The lines said while the collector cannot take records (running, and when closing waits). */
  readonly #notices: DeliveryNotices;
  #closed: Promise<void> | undefined;
  readonly #unhookExit: () => void;

  constructor(options: AppenderOptions, choice: StoreChoice | undefined, deps: AppenderDeps = {}) {
    super({ decodeStrings: false, emitClose: true, autoDestroy: true });
    this.options = options;
    this.#stderr = deps.stderr ?? writeStderr;
    const clock = deps.clock ?? createSystemClock({ unref: true });
    const pipeline = new Pipeline(options, { clock, connect: deps.connect, store: choice, life: this.#life });
    this.#pipeline = pipeline;
    this.#closeClock = deps.clock ?? systemClock;
    this.#conditions = new Conditions(this.#closeClock);
    this.#notices = new DeliveryNotices({
      clock,
      stderr: this.#stderr,
      address: this.#address(),
      waiting: () => pipeline.queued,
      delivered: () => pipeline.delivered,
    });
    pipeline.on('changed', () => this.#conditions.check());
    pipeline.on('progress', () => this.emit('progress'));
    pipeline.on('status', (status) => {
      this.#notices.status(status);
      this.#conditions.check();
      this.emit('status', status);
    });
    pipeline.begin(options.service);
    this.#unhookExit = onProcessExit(() => this.#onProcessExit());
  }

  /** A snapshot of the counters. */
  get counters(): AppenderCounters {
    const pipeline = this.#pipeline;
    const shipper = pipeline.shipper;
    return Object.freeze({
      sent: shipper.counters.sent,
      acknowledged: shipper.counters.acknowledged,
      queued: pipeline.queued,
      dropped: pipeline.dropped + this.#undelivered,
      spooled: shipper.counters.spooled,
      reconnects: shipper.reconnects,
    });
  }

  /**
   * The connection's state ('idle' until the client starts; without a service option, the link
   * is up but REGISTER waits in 'connecting' until the first record names it); every change is
   * also emitted as a 'status' event with the permanent client's status.
   */
  get state(): ClientState | 'idle' {
    return this.#pipeline.state;
  }

  /** The service name, once known. */
  get service(): string | undefined {
    return this.#pipeline.service;
  }

  /** The source id of the current session numbering (a session) or of the datagrams (UDP). */
  get source(): string | undefined {
    return this.#pipeline.shipper.source;
  }

  /**
   * Calls back once every record written so far is acknowledged or spooled (dropped ones
   * included), or after closeTimeout when the collector cannot be reached: it never fails, since
   * an error would end pino's worker.
   */
  flush(cb?: WriteCallback): void {
    const pipeline = this.#pipeline;
    pipeline.cutAll(false);
    const target = pipeline.accepted;
    pipeline.shipper.wake();
    void this.#conditions
      .waitFor(() => pipeline.settled >= target, this.options.closeTimeout)
      .then(() => {
        // A throwing callback is the caller's error, as with any callback: not an unhandled rejection.
        try {
          cb?.(null);
        } catch (error) {
          process.nextTick(() => {
            throw error;
          });
        }
      });
  }

  /** Writes after end are not an error here (it would be fatal to the worker): dropped, counted. */
  override write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    if (this.writableEnded || this.destroyed || this.#life.gaveUp) {
      const records = this.#dropLate(chunk);
      // Logged by an 'exit' listener after this appender's own: its report is out already.
      if (this.#life.exiting && records > 0)
        this.#stderr(formatLateLine(records, 'the exit report', fallbackName(this.options.fallback)));
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') queueMicrotask(() => done(null));
      return false;
    }
    return (super.write as (...args: unknown[]) => boolean).call(this, chunk, encoding, cb);
  }

  /** Ends: a write blocked by the 'block' policy is let through so that closing can start. */
  override end(...args: unknown[]): this {
    this.#pipeline.hold.end();
    return (super.end as (...a: unknown[]) => this).apply(this, args);
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, cb: WriteCallback): void {
    // At exit, the writes node still buffered were taken by #onProcessExit already.
    if (this.#life.exiting) {
      cb();
      return;
    }
    this.#pipeline.take(chunk);
    this.#pipeline.hold.afterWrite(cb);
  }

  override _writev(chunks: { chunk: string | Buffer }[], cb: WriteCallback): void {
    if (this.#life.exiting) {
      cb();
      return;
    }
    for (const { chunk } of chunks) this.#pipeline.take(chunk);
    this.#pipeline.hold.afterWrite(cb);
  }

  override _final(cb: WriteCallback): void {
    void this.#shutdown().then(() => cb(null));
  }

  override _destroy(_error: Error | null, cb: WriteCallback): void {
    // Never pass an error on: an 'error' event would end pino's worker.
    void this.#shutdown().then(() => cb(null));
  }

  /** Closes once; while the process exits nothing asynchronous starts. */
  #shutdown(): Promise<void> {
    if (this.#life.applyIf('close')) this.#closed = this.#close();
    return this.#closed ?? Promise.resolve();
  }

  async #close(): Promise<void> {
    const pipeline = this.#pipeline;
    try {
      pipeline.cutAll(true);
      // Records from an earlier run's spool, and no record in this one to name the service.
      if (
        pipeline.service === undefined &&
        (pipeline.queue.records > 0 || pipeline.shipper.unacknowledged > 0)
      ) {
        pipeline.nameService(scriptName());
      }
      pipeline.shipper.wake();
      this.#notices.closing(this.options.closeTimeout);
      await this.#conditions.waitFor(() => pipeline.delivered, this.options.closeTimeout);
      this.#notices.stop();
      const peer = this.#describePeer();
      await withTimeout(pipeline.shipper.stop(), TEARDOWN_MS, this.#closeClock);
      // The process may have begun exiting meanwhile: its report is out already.
      if (this.#life.applyIf('finish')) this.#giveUp('closeTimeout', peer);
    } catch (error) {
      // Closing must end with 'close', whatever went wrong: say what, once.
      this.#stderr(`logwire appender: closing failed: ${(error as Error).message}\n`);
    } finally {
      this.#notices.stop();
      this.#unhookExit();
    }
  }

  /**
   * The app calls `process.exit()` before this stream closed (in-process: pino ends only
   * transports). Nothing asynchronous runs any more, so what is not acknowledged (or, with a
   * spool, on disk) goes to `fallback` and is reported now, synchronously.
   */
  #onProcessExit(): void {
    if (!this.#life.applyIf('exit')) return;
    this.#notices.stop();
    const pipeline = this.#pipeline;
    // As at close: the queue keeps what comes in, to be reported as undelivered, not dropped.
    pipeline.hold.end();
    try {
      // Writes node's Writable still buffers behind a held one (the hold, 'block'): pino
      // handed them over, so they are ours to deliver or report.
      for (const { chunk } of this.#bufferedWrites()) pipeline.take(chunk);
      pipeline.cutAll(true);
      this.#giveUp('exit', this.#describePeer());
    } catch (error) {
      this.#stderr(`logwire appender: reporting at exit failed: ${(error as Error).message}\n`);
    }
  }

  #giveUp(cause: 'closeTimeout' | 'exit', peer: string): void {
    this.#undelivered += giveUp(
      this.#pipeline,
      {
        cause,
        peer,
        undeliveredBefore: this.#undelivered,
        closeTimeout: this.options.closeTimeout,
        fallbackName: fallbackName(this.options.fallback),
        spoolDir: this.options.spool?.dir,
      },
      this.#stderr,
    );
  }

  /** The writes node's Writable buffers behind the one in progress (`writableBuffer`, untyped). */
  #bufferedWrites(): readonly { chunk: string | Buffer }[] {
    return (this as unknown as { writableBuffer?: { chunk: string | Buffer }[] }).writableBuffer ?? [];
  }

  #address(): string {
    return this.options.addresses.map(formatAddress).join(',');
  }

  #describePeer(): string {
    const address = this.#address();
    const shipper = this.#pipeline.shipper;
    // Said first: its connection closes after it, and "not connected" would hide the cause.
    if (shipper.collectorWriteFailed)
      return `collector ${address} could not write the records to its output (see the collector's log)`;
    if (shipper.connected) return `collector ${address} connected`;
    const lastError = this.#pipeline.lastError;
    return `collector ${address} not connected${lastError === undefined ? '' : `: ${lastError}`}`;
  }

  /** A write that can no longer be delivered: to fallback, counted. Returns its records. */
  #dropLate(chunk: unknown): number {
    const body = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : undefined;
    if (body === undefined) return 0;
    const records = recordsIn(body);
    this.#undelivered += records;
    this.#pipeline.fallback.write(body);
    return records;
  }
}
