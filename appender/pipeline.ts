import { EventEmitter } from 'node:events';
import type { Clock } from '../shared/net/clock.js';
import type { ClientState, ClientStatus, ConnectFn } from '../shared/net/permanent-client.js';
import { Batcher } from '../shared/sender/batcher.js';
import { createFallback, type Fallback } from '../shared/sender/fallback.js';
import { RecordQueue } from '../shared/sender/record-queue.js';
import { udpBodyRoom } from '../shared/sender/udp-sender.js';
import { ChunkIntake } from './chunk-intake.js';
import { InputHold } from './input-hold.js';
import type { AppenderOptions } from './options.js';
import { firstRecordService, serviceOf } from './service-name.js';
import type { Shipper } from './shipper.js';
import { createShipper, type StoreChoice } from './shipping.js';

/**
 * The appender's data path, one way (issue #4):
 *
 *   take ─▶ intake ─▶ batcher ─▶ record queue ─▶ shipper (session §4 | UDP §7 | NDJSON §10)
 *           (defer     (cut)      (bounded,  ▲      │ progress, status
 *            large)                drops)    │      ▼
 *                                      hold ─┘  reads ShipperStatus.taking; holds pino's input
 *
 * Each part is told only of the next one, or reads a narrow status: the hold reads the queue's
 * gauge and whether the shipper takes records; the intake only whether a session awaits READY.
 * What the appender (the Writable above) needs is here as counters and `settled`/`delivered`.
 */

export interface PipelineEvents {
  /** Records moved: acknowledged, spooled, sent, dropped or queued. */
  changed: [];
  progress: [];
  status: [status: ClientStatus];
}

export interface PipelineParts {
  readonly clock: Clock;
  readonly connect: ConnectFn | undefined;
  readonly store: StoreChoice | undefined;
  /** Nothing may be started any more (the process exits): batches wait, to be reported. */
  readonly life: { readonly exiting: boolean };
}

export class Pipeline extends EventEmitter<PipelineEvents> {
  readonly fallback: Fallback;
  readonly queue: RecordQueue;
  readonly hold: InputHold;
  readonly batcher: Batcher;
  readonly intake: ChunkIntake;
  readonly shipper: Shipper;
  readonly #life: PipelineParts['life'];
  #service: string | undefined;
  /** Records that entered the record queue. */
  #accepted = 0;
  #tooLarge = 0;
  #state: ClientState | 'idle' = 'idle';
  #lastError: string | undefined;

  constructor(options: AppenderOptions, parts: PipelineParts) {
    super();
    this.#life = parts.life;
    this.fallback = createFallback(options.fallback);
    const fallback = this.fallback;
    this.queue = new RecordQueue({
      maxBytes: options.queue.maxBytes,
      overflow: options.queue.overflow,
      onDrop: (batch) => fallback.write(batch.body),
      onRoom: () => this.hold.release(),
      holding: () => this.hold.holding,
    });
    this.batcher = createBatcher(options, parts.clock, {
      batch: (body, count) => this.#onBatch(body, count),
      oversize: (piece, end) => {
        fallback.write(piece);
        if (end) this.#tooLarge += 1;
      },
    });
    this.intake = new ChunkIntake({
      push: (chunk) => this.batcher.push(chunk),
      batched: () => this.wake(),
      defer: options.queue.overflow !== 'block',
      awaitingReady: () => this.#state === 'connecting',
    });
    this.shipper = createShipper(options, {
      queue: this.queue,
      fallback,
      clock: parts.clock,
      connect: parts.connect,
      store: parts.store,
      release: (body) => this.batcher.release(body),
    });
    // Opening counts: a burst that arrives before READY waits in pino's buffer, not dropped.
    this.hold = new InputHold({
      overflow: options.queue.overflow,
      queue: this.queue,
      clock: parts.clock,
      shipper: this.shipper,
    });
    this.shipper.on('progress', () => this.#onProgress());
    this.shipper.on('status', (status) => this.#onStatus(status));
  }

  /** The connection's state: 'idle' until the client starts. */
  get state(): ClientState | 'idle' {
    return this.#state;
  }

  get service(): string | undefined {
    return this.#service;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  get accepted(): number {
    return this.#accepted;
  }

  /** Records alone over the batch or datagram limit, dropped before the queue. */
  get tooLarge(): number {
    return this.#tooLarge;
  }

  /** Records held: waiting, in flight or in the spool, not yet acknowledged. */
  get queued(): number {
    return this.queue.records + this.batcher.pendingRecords + this.shipper.unacknowledged;
  }

  /** Records dropped before delivery: overflow, too large, over a limit of the shipper. */
  get dropped(): number {
    return this.queue.dropped + this.#tooLarge + this.shipper.counters.dropped;
  }

  /** Records accepted that are done with: acknowledged, spooled, sent (UDP, NDJSON) or dropped. */
  get settled(): number {
    const shipper = this.shipper;
    const counters = shipper.counters;
    const dropped = this.queue.dropped + counters.dropped;
    if (!shipper.acknowledging) return dropped + counters.sent;
    return dropped + (shipper.spooling ? counters.spooled : counters.acknowledged);
  }

  /** True when closing has nothing left to wait for. */
  get delivered(): boolean {
    if (this.intake.pending || this.queue.records > 0 || this.batcher.pendingRecords > 0) return false;
    const shipper = this.shipper;
    if (shipper.appending > 0) return false;
    if (shipper.unacknowledged === 0) return true;
    // Spooled is safe: wait for acks only while a session is up and not paused.
    const state = this.#state;
    return shipper.spooling && (state === 'disconnected' || state === 'closed' || state === 'paused');
  }

  /**
   * Starts shipping: with a service option at once; else a spool left by an earlier run names it
   * by its first record; else a session connects now and REGISTER waits for the first record's
   * name (pino hands the first records over in a burst once the app yields: they then wait for
   * READY alone, not for a connect as well).
   */
  begin(service: string | undefined): void {
    const held = this.shipper.unacked()[0];
    if (service !== undefined) this.nameService(service);
    else if (held !== undefined) this.nameService(serviceOf(held.body));
    else this.shipper.connectEarly();
  }

  /**
   * A session waiting for the service name gets it from the chunk's first record now, so that
   * REGISTER leaves before the chunk is batched (a UDP or NDJSON shipper starts as before). Only
   * when nothing is pending: else the chunk may begin inside a line, named once batched.
   */
  take(chunk: string | Buffer): void {
    if (
      this.#service === undefined &&
      this.shipper.acknowledging &&
      !this.intake.pending &&
      this.batcher.pendingBytes === 0
    ) {
      const service = firstRecordService(chunk);
      if (service !== undefined) this.nameService(service);
    }
    this.intake.take(chunk);
  }

  /** Cuts everything taken into batches now (flush, close, exit). */
  cutAll(end: boolean): void {
    this.intake.batchDeferred();
    if (end) this.batcher.end();
    else this.batcher.cut();
  }

  nameService(service: string): void {
    this.#service = service;
    this.shipper.start(service);
  }

  /** Sends what may go, unless the process exits. */
  wake(): void {
    if (!this.#life.exiting) this.shipper.wake();
  }

  #onBatch(body: Buffer, count: number): void {
    if (this.#service === undefined) this.nameService(serviceOf(body));
    this.#accepted += count;
    this.queue.push(body, count);
    if (!this.intake.batching) this.wake();
    this.emit('changed');
  }

  #onProgress(): void {
    this.hold.check(true);
    this.emit('changed');
    this.emit('progress');
  }

  #onStatus(status: ClientStatus): void {
    this.#state = status.state;
    if (status.state === 'disconnected' && status.error !== undefined) this.#lastError = status.error.message;
    this.hold.check();
    this.emit('status', status);
  }
}

function createBatcher(
  options: AppenderOptions,
  clock: Clock,
  sink: ConstructorParameters<typeof Batcher>[1],
): Batcher {
  const udp = options.delivery === 'udp';
  const room = udpBodyRoom(options.udp.maxDatagram);
  return new Batcher(
    {
      ...options.batch,
      maxBytes: udp ? Math.min(options.batch.maxBytes, room) : options.batch.maxBytes,
      ...(udp ? { maxRecordBytes: room } : {}),
      clock,
    },
    sink,
  );
}
