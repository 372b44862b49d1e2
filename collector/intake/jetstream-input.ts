/**
 * The writing tier's intake: a durable pull consumer on the stream, each message a batch of
 * its source handed to the writer like an EVENTS batch of a session (marks drop what is at or
 * below them). A message is acknowledged only from the batch's `done`, which the writer calls
 * after the tick's checkpoint is saved: a kill between the save and the ack makes the stream
 * deliver the batch again, and the marks drop it. So the files hold each record once.
 *
 *   starting ──consumer rewound to its ack floor──▶ reading ──a tick failed──▶ rewinding
 *      ▲                                                                           │
 *      └────────────────── writer idle, acks flushed ──────────────────────────────┘
 *   any ──close()──▶ closed
 *
 * Rewinding (re-creating the consumer at ack floor + 1) keeps each source's batches in stream
 * order: a redelivery after the ack wait would come after later batches, which the marks
 * would already have passed.
 */

import {
  AckPolicy,
  type Consumer,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
  jetstream,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { CollectorLog } from '../config/config-types.js';
import { readBatchHeaders } from '../outputs/jetstream/batch-message.js';
import type { FromJetStreamSettings } from '../outputs/jetstream/jetstream-config.js';
import { connectCluster, manager, reason, requireStream } from '../outputs/jetstream/jetstream-stream.js';
import type { BatchJob } from '../writer/write-job.js';

/** Messages delivered and not yet acknowledged, at most: what the writer may hold from the stream. */
const MAX_ACK_PENDING = 1_000;
/** Redelivery while running is only a fallback; order comes from rewinding. */
const ACK_WAIT_MS = 5 * 60_000;
const NANOS_PER_MS = 1_000_000;

type InputState = 'starting' | 'reading' | 'rewinding' | 'closed';

const TRANSITIONS: Readonly<Record<InputState, readonly InputState[]>> = {
  starting: ['reading', 'closed'],
  reading: ['rewinding', 'closed'],
  rewinding: ['reading', 'closed'],
  closed: [],
};

export interface JetStreamInputDeps {
  readonly writer: { submit(job: BatchJob): void; idle(): Promise<void> };
  readonly log: CollectorLog;
  readonly counters: { batches: number };
}

export class JetStreamInput {
  readonly #settings: FromJetStreamSettings;
  readonly #nc: NatsConnection;
  readonly #jsm: JetStreamManager;
  readonly #deps: JetStreamInputDeps;
  #state: InputState = 'starting';
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> = Promise.resolve();

  private constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    settings: FromJetStreamSettings,
    deps: JetStreamInputDeps,
  ) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#settings = settings;
    this.#deps = deps;
  }

  /** Connects, checks the stream, rewinds the consumer and starts reading. */
  static async open(settings: FromJetStreamSettings, deps: JetStreamInputDeps): Promise<JetStreamInput> {
    const nc = await connectCluster(settings.servers, 'logwire writer');
    try {
      const jsm = await manager(nc, settings.servers);
      await requireStream(jsm, settings.stream, settings.servers);
      const input = new JetStreamInput(nc, jsm, settings, deps);
      const consumer = await input.#rewind();
      input.#start(consumer);
      return input;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  get state(): InputState {
    return this.#state;
  }

  /** Stops reading; what the writer holds is still written and acknowledged by its own drain. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#move('closed');
    this.#messages?.stop();
    await this.#loop.catch(() => undefined);
  }

  /** After the writer's drain: sends the last acks and disconnects. */
  async disconnect(): Promise<void> {
    if (!this.#nc.isClosed()) await this.#nc.drain().catch(() => this.#nc.close());
  }

  #move(to: InputState): void {
    if (!TRANSITIONS[this.#state].includes(to))
      throw new Error(`jetstream input: no transition ${this.#state} → ${to}`);
    this.#state = to;
  }

  #start(consumer: Consumer): void {
    this.#move('reading');
    this.#loop = this.#read(consumer).catch((error: unknown) => this.#failed(error));
  }

  async #read(consumer: Consumer): Promise<void> {
    const messages = await consumer.consume({ max_messages: MAX_ACK_PENDING });
    this.#messages = messages;
    for await (const msg of messages) {
      if (this.#state !== 'reading') break;
      this.#submit(msg);
    }
  }

  #submit(msg: JsMsg): void {
    const batch = readBatchHeaders(msg.headers);
    if (typeof batch === 'string') {
      this.#deps.log.error('dropped a stream message that is not a logwire batch', {
        stream: this.#settings.stream,
        seq: msg.seq,
        reason: batch,
      });
      msg.term();
      return;
    }
    this.#deps.counters.batches += 1;
    const data = msg.data;
    this.#deps.writer.submit({
      route: batch.route,
      seq: batch.seq,
      count: batch.count,
      body: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      mode: 'session',
      done: () => msg.ack(),
      fail: (error) => this.#failed(error),
    });
  }

  /** A tick failed (or the consumer broke): read again from the first unacknowledged message. */
  #failed(error: unknown): void {
    if (this.#state !== 'reading') return;
    this.#deps.log.warn('jetstream input: reading again from the last acknowledged message', {
      reason: reason(error),
    });
    this.#move('rewinding');
    this.#messages?.stop();
    void this.#again();
  }

  async #again(): Promise<void> {
    for (let delay = 250; this.#state === 'rewinding'; delay = Math.min(delay * 2, 5_000)) {
      try {
        await this.#deps.writer.idle();
        const consumer = await this.#rewind();
        if (this.#state === 'rewinding') this.#start(consumer);
        return;
      } catch (error) {
        this.#deps.log.warn('jetstream input: cannot rewind the consumer yet', { reason: reason(error) });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /**
   * Re-creates the durable consumer at its ack floor + 1 (everything below is written and
   * acknowledged), so each source's batches come again in stream order.
   */
  async #rewind(): Promise<Consumer> {
    const { stream, consumer: name } = this.#settings;
    await this.#nc.flush(); // acks sent before reading the floor
    const info = await this.#jsm.consumers.info(stream, name).catch(() => undefined);
    const floor = info?.ack_floor.stream_seq ?? 0;
    if (info !== undefined) await this.#jsm.consumers.delete(stream, name);
    await this.#jsm.consumers.add(stream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      ack_wait: ACK_WAIT_MS * NANOS_PER_MS,
      max_ack_pending: MAX_ACK_PENDING,
      ...(floor === 0
        ? { deliver_policy: DeliverPolicy.All }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 }),
    });
    return jetstream(this.#nc).consumers.get(stream, name);
  }
}
