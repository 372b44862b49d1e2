/**
 * The collector's metrics, in Prometheus text through prom-client (docs/collector.md lists
 * every one). Totals that the collector already counts (counters.ts, access counters) are read
 * at each scrape; what needs more detail (per service, histograms) is fed by the writer's
 * committed ticks, so each counter moves only once what it counts has happened.
 */

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AccessCounters } from '../access/listener-access.js';
import type { CollectorCounters } from '../counters.js';
import type { ForwardStatus } from '../outputs/forward/forward-output.js';
import { FORWARD_STATES } from '../outputs/forward/forwarder.js';
import type { CommittedTick } from '../writer/tick-tally.js';

/** What the metrics read from the running collector at each scrape. */
export interface MetricsSource {
  readonly counters: CollectorCounters;
  readonly access: AccessCounters;
  /** Registered stream sessions now. */
  readonly sessions: () => number;
  /** Open connections (stream links, tracked UDP remotes, ndjson connections). */
  readonly connections: () => number;
  /** Sessions told PAUSE and not yet UNPAUSE (backpressure). */
  readonly pausedSessions: () => number;
  readonly queuedBytes: () => number;
  readonly heldBytes: () => number;
  readonly openFiles: () => number;
  /** Records lost over UDP (gaps in datagram numbers). */
  readonly udpLost: () => number;
  readonly sources: () => number;
  /** Each forward output's relay now, by output name. */
  readonly forwards: () => ReadonlyArray<{ readonly name: string; readonly now: ForwardStatus }>;
}

export type ReloadOutcome = 'applied' | 'refused';

/** Seconds, for durations that are usually milliseconds: 0.5 ms to 10 s. */
const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export class CollectorMetrics {
  readonly registry = new Registry();
  readonly #received: Counter<'service'>;
  readonly #written: Counter<'service'>;
  readonly #rejected: Counter<'service'>;
  readonly #duplicate: Counter<'service'>;
  readonly #lost: Counter<'service'>;
  readonly #batchBytes: Counter<'service'>;
  readonly #bytesReceived: Counter<'transport'>;
  readonly #ackLatency: Histogram;
  readonly #tickDuration: Histogram;
  readonly #checkpointSaves: Counter;
  readonly #reopens: Counter;
  readonly #reloads: Counter<'outcome'>;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    const perService = (name: string, help: string): Counter<'service'> =>
      new Counter({ name, help, labelNames: ['service'], registers });
    this.#received = perService(
      'logwire_records_received_total',
      'Records in batches the writer took, per service',
    );
    this.#written = perService(
      'logwire_records_written_total',
      'Records written to an output file, per service',
    );
    this.#rejected = perService(
      'logwire_records_rejected_total',
      'Records written to _rejected.log, per service',
    );
    this.#duplicate = perService(
      'logwire_records_duplicate_total',
      'Retransmitted records at or below their source mark, acknowledged and not written again, per service',
    );
    this.#lost = perService(
      'logwire_records_lost_total',
      'Records a session skipped (gaps in its numbers, lost by the sender), per service',
    );
    this.#batchBytes = perService(
      'logwire_batch_bytes_total',
      'Body bytes of the batches the writer took, per service',
    );
    this.#bytesReceived = new Counter({
      name: 'logwire_received_bytes_total',
      help: 'Bytes read from peers, per transport',
      labelNames: ['transport'],
      registers,
    });
    this.#ackLatency = new Histogram({
      name: 'logwire_ack_latency_seconds',
      help: 'From a session batch arriving to its commit (written and checkpointed), which its ACK waits for',
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.#tickDuration = new Histogram({
      name: 'logwire_write_tick_duration_seconds',
      help: 'How long one write tick took: write, optional fsync, checkpoint save',
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.#checkpointSaves = new Counter({
      name: 'logwire_checkpoint_saves_total',
      help: 'Checkpoints saved after a write tick',
      registers,
    });
    this.#reopens = new Counter({
      name: 'logwire_reopens_total',
      help: 'Reopens of every output file (LOG, SIGHUP)',
      registers,
    });
    this.#reloads = new Counter({
      name: 'logwire_reloads_total',
      help: 'RELOAD requests, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.#fromCollector(source);
  }

  /** A tick written and saved. */
  committed(tick: CommittedTick): void {
    for (const [service, counts] of tick.services) {
      this.#received.inc({ service }, counts.records);
      this.#written.inc({ service }, counts.written);
      this.#rejected.inc({ service }, counts.rejected);
      this.#duplicate.inc({ service }, counts.retransmitted);
      this.#lost.inc({ service }, counts.gaps);
      this.#batchBytes.inc({ service }, counts.bytes);
    }
    this.#tickDuration.observe(tick.durationMs / 1000);
    for (const wait of tick.ackWaitsMs) this.#ackLatency.observe(wait / 1000);
    this.#checkpointSaves.inc();
  }

  bytesReceived(transport: string, bytes: number): void {
    this.#bytesReceived.inc({ transport }, bytes);
  }

  reopened(): void {
    this.#reopens.inc();
  }

  reloaded(outcome: ReloadOutcome): void {
    this.#reloads.inc({ outcome });
  }

  /** Prometheus text of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Metrics read at scrape time from what the collector counts anyway. */
  #fromCollector(source: MetricsSource): void {
    this.#gaugesNow(source);
    this.#totals(source);
    this.#forwardGauges(source);
  }

  /** Per forward output (label `output`): its spool, its sessions upstream and their state. */
  #forwardGauges(source: MetricsSource): void {
    const registers = [this.registry];
    const perOutput = (name: string, help: string, read: (now: ForwardStatus) => number): void => {
      new Gauge({
        ...{ name, help, labelNames: ['output'], registers },
        collect() {
          this.reset();
          for (const forward of source.forwards()) this.set({ output: forward.name }, read(forward.now));
        },
      });
    };
    perOutput(
      'logwire_forward_spool_bytes',
      'Bytes in the forward spool, not yet acknowledged upstream',
      (now) => now.spoolBytes,
    );
    perOutput(
      'logwire_forward_waiting_records',
      'Records spooled and committed, not yet acknowledged upstream',
      (now) => now.waiting,
    );
    perOutput(
      'logwire_forward_sessions',
      'Sessions to the upstream, one per relayed source',
      (now) => now.sessions,
    );
    new Gauge({
      name: 'logwire_forward_state',
      help: 'The relay state (the least advanced session): 1 for the state it is in, 0 for the others',
      labelNames: ['output', 'state'],
      registers,
      collect() {
        this.reset();
        for (const forward of source.forwards())
          for (const state of FORWARD_STATES)
            this.set({ output: forward.name, state }, forward.now.state === state ? 1 : 0);
      },
    });
  }

  /** A total read at each scrape. */
  #total(name: string, help: string, read: () => number): void {
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  /** A value now, read at each scrape. */
  #gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  #gaugesNow(source: MetricsSource): void {
    const gauge = (name: string, help: string, read: () => number): void => this.#gauge(name, help, read);
    gauge('logwire_sessions', 'Registered stream sessions now', source.sessions);
    gauge(
      'logwire_connections',
      'Open connections now (UDP: remotes heard from recently)',
      source.connections,
    );
    gauge('logwire_paused_sessions', 'Sessions told PAUSE now (the writer is behind)', source.pausedSessions);
    gauge('logwire_queued_bytes', 'Body bytes received and not yet written', source.queuedBytes);
    gauge('logwire_held_bytes', 'Bytes held for messages and lines not yet complete', source.heldBytes);
    gauge('logwire_open_files', 'Output files open now', source.openFiles);
    gauge('logwire_sources', 'Sources whose marks the checkpoint keeps', source.sources);
  }

  #totals(source: MetricsSource): void {
    const total = (name: string, help: string, read: () => number): void => this.#total(name, help, read);
    const { counters, access } = source;
    total('logwire_sessions_total', 'Sessions that became ready', () => counters.sessions);
    total(
      'logwire_connections_total',
      'Connections accepted (stream, ndjson, UDP remotes)',
      () => counters.connections,
    );
    total('logwire_batches_total', 'Batches received', () => counters.batches);
    total('logwire_udp_records_lost_total', 'Records missing from UDP numbering', source.udpLost);
    total(
      'logwire_datagrams_dropped_total',
      'UDP datagrams dropped as unreadable or over the backlog',
      () => counters.datagramsDropped,
    );
    total('logwire_protocol_errors_total', 'Messages that broke the protocol', () => counters.protocolErrors);
    total('logwire_pauses_total', 'Times sessions were told PAUSE', () => counters.pauses);
    total(
      'logwire_register_timeouts_total',
      'Connections closed for not registering in time',
      () => counters.registerTimeouts,
    );
    total(
      'logwire_outputs_reopened_total',
      'Output files found moved or deleted while open, and reopened',
      () => counters.outputsMoved + counters.outputsDeleted,
    );
    total(
      'logwire_jetstream_duplicates_total',
      'Batches the JetStream stream already held when published',
      () => counters.jetstreamDuplicates,
    );
    total(
      'logwire_jetstream_retries_total',
      'JetStream publishes tried again after a failure or timeout',
      () => counters.jetstreamRetries,
    );
    total(
      'logwire_refused_address_total',
      'Connections and datagrams from addresses outside the allow list',
      () => access.refusedAddress,
    );
    total(
      'logwire_refused_token_total',
      'REGISTERs, datagrams and ndjson connections without an accepted token',
      () => access.refusedToken,
    );
    total(
      'logwire_refused_per_peer_total',
      'Connections over max_connections_per_peer',
      () => access.refusedPerPeer,
    );
    total(
      'logwire_rate_held_total',
      'Times a connection was held back by its rate_limit',
      () => access.rateHeld,
    );
  }
}
