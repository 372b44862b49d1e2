/**
 * The JetStream output: each batch of a tick becomes one message on `<prefix>.<service>` with
 * `Nats-Msg-Id = source:seq` (batch-message.ts). Its part of a tick:
 *
 *   declare: nothing ─▶ write: publish, every source at once, each source's batches in order,
 *     each retried with the same id until its PubAck ─▶ resolves after the last PubAck
 *   undo: nothing (a stored message cannot be taken back; the resend is a duplicate the stream drops)
 *
 * A source's batches go one after another, not all in flight: if batch k failed while k+1 was
 * stored, the resent k would land after k+1 and the writing tier, whose marks drop what is
 * at or below them, would drop k. In order, the stream holds each source's batches by number.
 * The collector's own marks (the writer's) still drop retransmissions within one collector;
 * across collectors the stream's duplicate window drops them (docs/scale-out.md).
 */

import { type JetStreamClient, type JetStreamManager, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { LogwireError } from '../../../shared/errors.js';
import type { BatchJob } from '../../writer/write-job.js';
import type { Output, OutputPart, RoutedBatch, TickRecords } from '../output.js';
import { batchHeaders, messageId, subjectFor } from './batch-message.js';
import { type BatchPart, splitBatch } from './batch-parts.js';
import type { JetStreamSettings } from './jetstream-config.js';
import { connectCluster, ensureStream, manager, reason } from './jetstream-stream.js';

/** What the output counts as PubAcks come back. */
export interface JetStreamCounters {
  /** Batches the stream already held (another collector, or an earlier try, stored them). */
  jetstreamDuplicates: number;
  /** Publishes tried again after a failure or a timeout. */
  jetstreamRetries: number;
}

/** How a failed publish is tried again: delays in ms, then the tick fails and clients resend. */
export interface PublishRetry {
  /** ms to wait for one PubAck. */
  readonly timeout: number;
  /** ms between tries; one more try than delays. Long enough in total to ride a leader election. */
  readonly delays: readonly number[];
  readonly wait: (ms: number) => Promise<void>;
}

export const DEFAULT_PUBLISH_RETRY: PublishRetry = {
  timeout: 5_000,
  delays: [100, 250, 500, 1_000, 2_000, 2_000, 2_000, 2_000],
  wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
};

export class JetStreamOutput implements Output {
  readonly settings: JetStreamSettings;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #counters: JetStreamCounters;
  readonly #retry: PublishRetry;

  private constructor(
    nc: NatsConnection,
    settings: JetStreamSettings,
    counters: JetStreamCounters,
    retry: PublishRetry,
  ) {
    this.#nc = nc;
    this.#js = jetstream(nc);
    this.settings = settings;
    this.#counters = counters;
    this.#retry = retry;
  }

  /** Connects, creates or checks the stream; throws naming the URL when that cannot be done. */
  static async open(
    settings: JetStreamSettings,
    counters: JetStreamCounters,
    retry: PublishRetry = DEFAULT_PUBLISH_RETRY,
  ): Promise<JetStreamOutput> {
    const nc = await connectCluster(settings.servers, 'logwire collector');
    try {
      const jsm: JetStreamManager = await manager(nc, settings.servers);
      await ensureStream(jsm, settings);
    } catch (error) {
      await nc.close();
      throw error;
    }
    return new JetStreamOutput(nc, settings, counters, retry);
  }

  stage(batches: readonly RoutedBatch[], records: (job: BatchJob) => TickRecords): OutputPart {
    const bySource = new Map<string, RoutedBatch[]>();
    for (const batch of batches) {
      if (batch.body === undefined) {
        // Over max_body: discarded on arrival, nothing to publish (its numbers become a gap downstream).
        records(batch.job).rejected += batch.count - batch.skip;
        continue;
      }
      const list = bySource.get(batch.job.route.source);
      if (list === undefined) bySource.set(batch.job.route.source, [batch]);
      else list.push(batch);
    }
    return {
      declare: async () => undefined,
      write: async () => {
        // Every source's chain settles before the tick is decided: none still publishes after a failure.
        const results = await Promise.allSettled(
          [...bySource.values()].map((list) => this.#publishInOrder(list, records)),
        );
        const failed = results.find(
          (result): result is PromiseRejectedResult => result.status === 'rejected',
        );
        if (failed !== undefined) throw failed.reason;
      },
      undo: async () => undefined,
    };
  }

  prepare(): void {}

  async reopen(): Promise<void> {}

  async close(): Promise<void> {
    if (this.#nc.isClosed()) return;
    await this.#nc.drain().catch(() => this.#nc.close());
  }

  async #publishInOrder(
    list: readonly RoutedBatch[],
    records: (job: BatchJob) => TickRecords,
  ): Promise<void> {
    const maxPayload = this.#nc.info?.max_payload ?? 1024 * 1024;
    for (const batch of list) {
      const { job, count } = batch;
      const body = batch.body as Buffer;
      // Whole batches only (config-outputs.ts refuses level routes beside a jetstream output).
      const parts = splitBatch(job.seq, count, body, maxPayload) ?? [{ seq: job.seq, count, body }];
      // Records at or below the mark (skip) are stored again under the same ids; not counted twice.
      const fresh = job.seq + batch.skip;
      for (const part of parts) {
        const duplicate = await this.#publish(batch, part);
        if (duplicate) this.#counters.jetstreamDuplicates += 1;
        else records(job).written += Math.max(0, Math.min(part.count, part.seq + part.count - fresh));
      }
    }
  }

  /** Publishes one batch (or part), retried with the same id; resolves to whether the stream had it already. */
  async #publish(batch: RoutedBatch, part: BatchPart): Promise<boolean> {
    const { job } = batch;
    const subject = subjectFor(this.settings.subjectPrefix, job.route.service);
    const options = {
      msgID: messageId(job.route.source, part.seq),
      headers: batchHeaders({ route: job.route, seq: part.seq, count: part.count }),
      timeout: this.#retry.timeout,
      // The client's own retry covers "no responders" while the stream elects a leader.
      retries: 1,
    };
    const delays = this.#retry.delays;
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await this.#js.publish(subject, part.body, options);
        return ack.duplicate;
      } catch (error) {
        if (attempt >= delays.length || this.#nc.isClosed())
          throw new LogwireError(
            'LW_ERR_OUTPUT',
            `cannot publish to stream ${this.settings.stream} at ${this.settings.servers.join(', ')} ` +
              `(${attempt + 1} tries): ${reason(error)}`,
            { cause: error },
          );
        this.#counters.jetstreamRetries += 1;
        await this.#retry.wait(delays[attempt]!);
      }
    }
  }
}
