import { Writable } from 'node:stream';
import { type Clock, createSystemClock, systemClock } from '../shared/net/clock.js';
import type { ClientState, ConnectFn } from '../shared/net/permanent-client.js';
import { formatAddress } from '../shared/protocol/address.js';
import { Batcher } from '../shared/sender/batcher.js';
import { createFallback, type Fallback, fallbackName, recordsIn } from '../shared/sender/fallback.js';
import type { NdjsonSender } from '../shared/sender/ndjson-sender.js';
import { RecordQueue } from '../shared/sender/record-queue.js';
import type { Sender } from '../shared/sender/sender.js';
import { type UdpSender, udpBodyRoom } from '../shared/sender/udp-sender.js';
import { ChunkIntake } from './chunk-intake.js';
import { formatCloseReport, formatLateLine, writeStderr } from './close-report.js';
import { DeliveryNotices } from './delivery-notices.js';
import { InputHold } from './input-hold.js';
import { type AppenderOptions, parseAppenderOptions, scriptName } from './options.js';
import { onProcessExit } from './process-exit.js';
import { firstRecordService, serviceOf } from './service-name.js';
import { CLOSE_GRACE, chooseStore, createShipping, type Shipper, type StoreChoice } from './shipper.js';
import { Conditions, withTimeout } from './wait-until.js';

/**
 * The pino transport stream (issue #4). pino's worker (or an in-process logger) writes chunks of
 * record lines; they flow, without a per-record allocation, through
 *
 *   write ─▶ batcher ─▶ record queue ─▶ sender (session §4 | UDP §7 | NDJSON §10) ─▶ collector
 *            (cut)      (bounded,        (numbering, store/spool, window, acks)
 *                        drops counted)
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
  readonly #batcher: Batcher;
  readonly #queue: RecordQueue;
  readonly #fallback: Fallback;
  readonly #shipper: Shipper;
  readonly #sender: Sender | undefined;
  readonly #udp: UdpSender | undefined;
  readonly #ndjson: NdjsonSender | undefined;
  readonly #durable: boolean;
  #service: string | undefined;
  /** Records that entered the record queue. */
  #accepted = 0;
  #tooLarge = 0;
  #undelivered = 0;
  readonly #hold: InputHold;
  readonly #intake: ChunkIntake;
  readonly #conditions: Conditions;
  /** The lines said while the collector cannot take records (running, and when closing waits). */
  readonly #notices: DeliveryNotices;
  #lastError: string | undefined;
  #state: ClientState | 'idle' = 'idle';
  #closing: Promise<void> | undefined;
  /** What could not be delivered has been reported (at close or at process exit): once only. */
  #gaveUp = false;
  /** The process is exiting: nothing may be started, only reported. */
  #exiting = false;
  readonly #unhookExit: () => void;

  constructor(options: AppenderOptions, choice: StoreChoice | undefined, deps: AppenderDeps = {}) {
    super({ decodeStrings: false, emitClose: true, autoDestroy: true });
    this.options = options;
    this.#stderr = deps.stderr ?? writeStderr;
    this.#fallback = createFallback(options.fallback);
    this.#durable = choice?.durable === true && options.delivery === 'session';
    this.#queue = new RecordQueue({
      maxBytes: options.queue.maxBytes,
      overflow: options.queue.overflow,
      onDrop: (batch) => this.#fallback.write(batch.body),
      onRoom: () => this.#hold.release(),
      holding: () => this.#hold.holding,
    });
    const clock = deps.clock ?? createSystemClock({ unref: true });
    this.#hold = new InputHold({
      overflow: options.queue.overflow,
      queue: this.#queue,
      clock,
      // Opening counts: a burst that arrives before READY waits in pino's buffer, not dropped.
      taking: () => {
        const sender = this.#sender;
        if (sender === undefined) return this.#ndjson?.connected ?? false;
        return sender.sending || sender.opening;
      },
    });
    this.#conditions = new Conditions(deps.clock ?? systemClock);
    this.#notices = new DeliveryNotices({
      clock,
      stderr: this.#stderr,
      address: options.addresses.map(formatAddress).join(','),
      waiting: () => this.counters.queued,
      drained: () => this.#drained(),
    });
    const udp = options.delivery === 'udp';
    const room = udpBodyRoom(options.udp.maxDatagram);
    this.#batcher = new Batcher(
      {
        ...options.batch,
        maxBytes: udp ? Math.min(options.batch.maxBytes, room) : options.batch.maxBytes,
        ...(udp ? { maxRecordBytes: room } : {}),
        clock,
      },
      {
        batch: (body, count) => this.#onBatch(body, count),
        oversize: (piece, end) => {
          this.#fallback.write(piece);
          if (end) this.#tooLarge += 1;
        },
      },
    );
    this.#intake = new ChunkIntake({
      push: (chunk) => this.#batcher.push(chunk),
      batched: () => {
        if (!this.#exiting) this.#shipper.wake();
      },
      defer: options.queue.overflow !== 'block',
      awaitingReady: () => this.#state === 'connecting',
    });
    const shipping = createShipping(options, {
      queue: this.#queue,
      fallback: this.#fallback,
      clock,
      connect: deps.connect,
      store: choice,
      release: (body) => this.#batcher.release(body),
    });
    this.#shipper = shipping.shipper;
    this.#sender = shipping.kind === 'session' ? shipping.shipper : undefined;
    this.#udp = shipping.kind === 'udp' ? shipping.shipper : undefined;
    this.#ndjson = shipping.kind === 'ndjson' ? shipping.shipper : undefined;
    this.#shipper.on('progress', () => {
      this.#hold.check(true);
      this.#conditions.check();
      this.emit('progress');
    });
    this.#shipper.on('status', (status) => {
      this.#state = status.state;
      if (status.state === 'disconnected' && status.error !== undefined)
        this.#lastError = status.error.message;
      this.#notices.status(status);
      this.#hold.check();
      this.#conditions.check();
      this.emit('status', status);
    });
    // Without a service option, REGISTER waits for the first record's name; a spool left by an
    // earlier run has records already, so the first of those names it and shipping starts now.
    // Else a session connects at once: pino hands the first records over in a burst, once the
    // app yields, and they then wait for READY alone, not for a connect as well.
    const held = this.#sender?.unacked()[0];
    if (options.service !== undefined) this.#startShipper(options.service);
    else if (held !== undefined) this.#startShipper(serviceOf(held.body));
    else this.#sender?.connectEarly();
    this.#unhookExit = onProcessExit(() => this.#onProcessExit());
  }

  /** A snapshot of the counters. */
  get counters(): AppenderCounters {
    const sender = this.#sender?.counters;
    const shipperSent = sender?.sent ?? this.#udp?.counters.sent ?? this.#ndjson?.counters.sent ?? 0;
    return Object.freeze({
      sent: shipperSent,
      acknowledged: sender?.acknowledged ?? 0,
      queued: this.#queue.records + this.#batcher.pendingRecords + (this.#sender?.unacknowledged ?? 0),
      dropped: this.#dropped() + this.#undelivered,
      spooled: sender?.spooled ?? 0,
      reconnects: this.#shipper.reconnects,
    });
  }

  /**
   * The connection's state ('idle' until the client starts; without a service option, the link
   * is up but REGISTER waits in 'connecting' until the first record names it); every change is
   * also emitted as a 'status' event with the permanent client's status.
   */
  get state(): ClientState | 'idle' {
    return this.#state;
  }

  /** The service name, once known. */
  get service(): string | undefined {
    return this.#service;
  }

  /** The source id of the current session numbering (a session) or of the datagrams (UDP). */
  get source(): string | undefined {
    return this.#sender?.source ?? this.#udp?.source;
  }

  /**
   * Calls back once every record written so far is acknowledged or spooled (dropped ones
   * included), or after closeTimeout when the collector cannot be reached: it never fails, since
   * an error would end pino's worker.
   */
  flush(cb?: WriteCallback): void {
    this.#intake.drain();
    this.#batcher.cut();
    const target = this.#accepted;
    this.#shipper.wake();
    void this.#conditions
      .waitFor(() => this.#settled() >= target, this.options.closeTimeout)
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
    if (this.writableEnded || this.destroyed || this.#gaveUp) {
      const records = this.#dropLate(chunk);
      // Logged by an 'exit' listener after this appender's own: its report is out already.
      if (this.#exiting && records > 0)
        this.#stderr(formatLateLine(records, 'the exit report', this.#fallbackName()));
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') queueMicrotask(() => done(null));
      return false;
    }
    return (super.write as (...args: unknown[]) => boolean).call(this, chunk, encoding, cb);
  }

  /** Ends: a write blocked by the 'block' policy is let through so that closing can start. */
  override end(...args: unknown[]): this {
    this.#hold.end();
    return (super.end as (...a: unknown[]) => this).apply(this, args);
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, cb: WriteCallback): void {
    // At exit, the writes node still buffered were taken by #onProcessExit already.
    if (this.#exiting) {
      cb();
      return;
    }
    this.#take(chunk);
    this.#hold.afterWrite(cb);
  }

  override _writev(chunks: { chunk: string | Buffer }[], cb: WriteCallback): void {
    if (this.#exiting) {
      cb();
      return;
    }
    for (const { chunk } of chunks) this.#take(chunk);
    this.#hold.afterWrite(cb);
  }

  /**
   * A session waiting for the service name gets it from the chunk's first record now, so that
   * REGISTER leaves before the chunk is batched (a UDP or NDJSON shipper starts as before). Only
   * when nothing is pending: else the chunk may begin inside a line, named once batched.
   */
  #take(chunk: string | Buffer): void {
    if (
      this.#service === undefined &&
      this.#sender !== undefined &&
      !this.#intake.pending &&
      this.#batcher.pendingBytes === 0
    ) {
      const service = firstRecordService(chunk);
      if (service !== undefined) this.#startShipper(service);
    }
    this.#intake.take(chunk);
  }

  override _final(cb: WriteCallback): void {
    void this.#shutdown().then(() => cb(null));
  }

  override _destroy(_error: Error | null, cb: WriteCallback): void {
    // Never pass an error on: an 'error' event would end pino's worker.
    void this.#shutdown().then(() => cb(null));
  }

  #onBatch(body: Buffer, count: number): void {
    if (this.#service === undefined) this.#startShipper(serviceOf(body));
    this.#accepted += count;
    this.#queue.push(body, count);
    if (!this.#intake.batching && !this.#exiting) this.#shipper.wake();
    this.#conditions.check();
  }

  #startShipper(service: string): void {
    this.#service = service;
    this.#shipper.start(service);
  }

  #dropped(): number {
    const shipperDropped =
      this.#sender?.counters.dropped ?? this.#udp?.counters.dropped ?? this.#ndjson?.counters.dropped ?? 0;
    return this.#queue.dropped + this.#tooLarge + shipperDropped;
  }

  /** Records accepted that are done with: acknowledged, spooled, sent (UDP, NDJSON) or dropped. */
  #settled(): number {
    const sender = this.#sender;
    const dropped = this.#queue.dropped + (sender?.counters.dropped ?? 0);
    if (sender === undefined) return dropped + (this.#udp?.counters.sent ?? this.#ndjson?.counters.sent ?? 0);
    return dropped + (this.#spooling() ? sender.counters.spooled : sender.counters.acknowledged);
  }

  /** True when closing has nothing left to wait for. */
  #drained(): boolean {
    if (this.#intake.pending || this.#queue.records > 0 || this.#batcher.pendingRecords > 0) return false;
    const sender = this.#sender;
    if (sender === undefined) return true;
    if (sender.appending > 0) return false;
    if (sender.unacknowledged === 0) return true;
    // Spooled is safe: wait for acks only while a session is up and not paused.
    return (
      this.#spooling() &&
      (this.#state === 'disconnected' || this.#state === 'closed' || this.#state === 'paused')
    );
  }

  /** Records are in a working spool: asked for, and not failed since (then memory only). */
  #spooling(): boolean {
    return this.#durable && this.#sender?.durable === true;
  }

  #shutdown(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    try {
      this.#intake.drain();
      this.#batcher.end();
      const sender = this.#sender;
      // Records from an earlier run's spool, and no record in this one to name the service.
      if (this.#service === undefined && (this.#queue.records > 0 || (sender?.unacknowledged ?? 0) > 0)) {
        this.#startShipper(scriptName());
      }
      this.#shipper.wake();
      this.#notices.closing(this.options.closeTimeout);
      await this.#conditions.waitFor(() => this.#drained(), this.options.closeTimeout);
      this.#notices.stop();
      const peer = this.#describePeer();
      await withTimeout(this.#shipper.stop(), TEARDOWN_MS);
      this.#giveUp('closeTimeout', peer);
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
    this.#exiting = true;
    this.#notices.stop();
    // As at close: the queue keeps what comes in, to be reported as undelivered, not dropped.
    this.#hold.end();
    try {
      // Writes node's Writable still buffers behind a held one (the hold, 'block'): pino
      // handed them over, so they are ours to deliver or report.
      for (const { chunk } of this.#bufferedWrites()) this.#take(chunk);
      this.#intake.drain();
      this.#batcher.end();
      this.#giveUp('exit', this.#describePeer());
    } catch (error) {
      this.#stderr(`logwire appender: reporting at exit failed: ${(error as Error).message}\n`);
    }
  }

  /** Delivery is no longer waited for: the rest goes to `fallback` and into one report line. */
  #giveUp(cause: 'closeTimeout' | 'exit', peer: string): void {
    if (this.#gaveUp) return;
    this.#gaveUp = true;
    const sender = this.#sender;
    const left = this.#queue.drain();
    const spooling = this.#spooling();
    // Numbered, but the store has not taken them yet: in memory only, or not (all) on disk. A
    // spool writes one batch at a time, so only the first of them can be on disk already.
    const inAppend = sender?.appendingBatches() ?? [];
    const unacked = sender !== undefined && !spooling ? [...sender.unacked(), ...inAppend] : [];
    const spoolPending = spooling ? inAppend : [];
    const giveUp = [...unacked, ...left, ...spoolPending];
    for (const batch of giveUp) this.#undelivered += batch.count;
    const pendingRecords = spoolPending.reduce((sum, batch) => sum + batch.count, 0);
    const line = formatCloseReport({
      cause,
      acknowledging: sender !== undefined,
      undelivered: this.#undelivered - pendingRecords,
      overflow: this.#queue.dropped,
      tooLarge: this.#tooLarge + (sender?.counters.dropped ?? this.#udp?.counters.dropped ?? 0),
      leftInSpool: spooling ? (sender?.unacknowledged ?? 0) - pendingRecords : 0,
      spoolPending: pendingRecords,
      maybeInSpool: spoolPending[0]?.count ?? 0,
      closeTimeout: this.options.closeTimeout,
      fallback: this.#fallbackName(),
      peer,
      spoolDir: this.options.spool?.dir,
    });
    // The count first: writing a large rest to fallback may take longer than the app waits.
    if (line !== undefined) this.#stderr(line);
    for (const batch of giveUp) this.#fallback.write(batch.body);
    // At exit the fallback stays open: an 'exit' listener after this one may still log.
    if (cause === 'closeTimeout') this.#fallback.close();
  }

  /** The writes node's Writable buffers behind the one in progress (`writableBuffer`, untyped). */
  #bufferedWrites(): readonly { chunk: string | Buffer }[] {
    return (this as unknown as { writableBuffer?: { chunk: string | Buffer }[] }).writableBuffer ?? [];
  }

  #describePeer(): string {
    const address = this.options.addresses.map(formatAddress).join(',');
    // Said first: its connection closes after it, and "not connected" would hide the cause.
    if (this.#sender?.collectorWriteFailed === true)
      return `collector ${address} could not write the records to its output (see the collector's log)`;
    if (this.#shipper.connected) return `collector ${address} connected`;
    return `collector ${address} not connected${this.#lastError === undefined ? '' : `: ${this.#lastError}`}`;
  }

  #fallbackName(): string | undefined {
    return fallbackName(this.options.fallback);
  }

  /** A write that can no longer be delivered: to fallback, counted. Returns its records. */
  #dropLate(chunk: unknown): number {
    const body = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : undefined;
    if (body === undefined) return 0;
    const records = recordsIn(body);
    this.#undelivered += records;
    this.#fallback.write(body);
    return records;
  }
}
