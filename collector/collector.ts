/**
 * The collector daemon: wiring only. After start-up the dispatcher drives everything.
 *
 *   listeners ─▶ link acceptance ─▶ messenger ─▶ dispatcher ─▶ session ─▶ writer ─▶ ACK
 *      │                                            └─▶ control (LOG · STOP · STATUS · RELOAD · HELP · ALIVE)
 *      └─ ndjson / udp intake ─▶ writer
 *
 * Each part is an object of its own (intake/, writer/, outputs/, checkpoint/, config/,
 * control/); this file makes them and hands each the narrow view of the others it needs.
 */

import { Dispatcher, type TraceEntry } from '../shared/dispatcher/dispatcher.js';
import { installStandardHandlers } from '../shared/dispatcher/standard-handlers.js';
import { DEFINITIONS } from '../shared/protocol/definitions.js';
import { SlabCutter } from '../shared/slab-cutter.js';
import { SlabPool } from '../shared/slab-pool.js';
import { type AccessCounters, createAccessCounters, ListenerAccess } from './access/listener-access.js';
import type { Checkpoint } from './checkpoint/checkpoint.js';
import { CheckpointHealth } from './checkpoint/checkpoint-health.js';
import { type CollectorClock, collectorClock, every } from './clock.js';
import type { Collector, CollectorConfig, CollectorLog } from './config/config-types.js';
import { LiveConfig } from './config/live-config.js';
import { Reloader } from './config/reloader.js';
import { installControlHandlers } from './control/control.js';
import { Lifecycle, type StopSteps } from './control/lifecycle.js';
import { statusReport } from './control/status.js';
import { type CollectorCounters, createCounters } from './counters.js';
import type { CollectorContext } from './intake/dispatch-context.js';
import { IdempotencyKeys } from './intake/http-idempotency.js';
import { listenHttp } from './intake/http-intake.js';
import { JetStreamInput } from './intake/jetstream-input.js';
import { LinkAcceptance } from './intake/link-acceptance.js';
import { Listeners, type OpenHttp } from './intake/listeners.js';
import { DEFAULT_LOG_INTERVAL_MS, PeerLogLimit } from './intake/peer-log-limit.js';
import { ReadGate } from './intake/read-gate.js';
import { SessionTable } from './intake/session-table.js';
import { acceptUdpEvents, type UdpDeps } from './intake/udp-intake.js';
import type { MetricsSource } from './metrics/collector-metrics.js';
import { checkHealth, type Health } from './metrics/health-check.js';
import { MetricsEndpoint } from './metrics/metrics-endpoint.js';
import { loadMetrics, type MetricsSink, NO_METRICS } from './metrics/metrics-sink.js';
import type { CollectorOutputs } from './open-outputs.js';
import { PathTemplate } from './outputs/path-template.js';
import { fileOutputSettings, openState, type StartOptions } from './state.js';
import { Backpressure } from './writer/backpressure.js';
import type { CommittedTick } from './writer/tick-tally.js';
import { Writer } from './writer/writer.js';

export type { StartOptions } from './state.js';

/** Slabs for bodies spanning reads: one is cut at a time, for all connections. */
const BODY_SLAB_BYTES = 4 * 1024 * 1024;
/** Free slabs kept: enough for a writer backlog's worth to come back between bursts. */
const BODY_SLABS_KEPT = 4;
/** Marks idle longer than source_ttl are forgotten (§4); checked hourly, saved with the next tick. */
const FORGET_IDLE_EVERY_MS = 3_600_000;

/** The parts every other part is built over: configuration, clock, state, writer, backpressure. */
interface Core {
  readonly log: CollectorLog;
  readonly onError: (error: unknown) => void;
  readonly config: LiveConfig;
  readonly clock: CollectorClock;
  readonly counters: CollectorCounters;
  /** What access control refused or held back (STATUS, /metrics). */
  readonly access: AccessCounters;
  /** Why a link is not read: backlog, held budget (backpressure) or rate_limit (access). */
  readonly gate: ReadGate;
  readonly sessions: SessionTable;
  readonly checkpoint: Checkpoint;
  readonly output: CollectorOutputs;
  readonly writer: Writer;
  readonly backpressure: Backpressure;
  readonly badInputLog: PeerLogLimit;
  readonly bodySlabs: SlabCutter;
}

async function openCore(
  initial: CollectorConfig,
  options: StartOptions,
  onCommitted: (tick: CommittedTick) => void,
): Promise<Core> {
  const { log } = options;
  const config = new LiveConfig(initial);
  const clock = collectorClock();
  const sessions = new SessionTable();
  const counters = createCounters();
  const gate = new ReadGate();
  const maxSources = (): number => config.current.maxSources;
  const onError = (error: unknown): void => log.error(error instanceof Error ? error.message : String(error));
  const state = await openState(initial, options, { sessions, counters, clock, maxSources, onError });
  const { checkpoint, outputs: output } = state;
  // Bodies that span socket reads are copied into reused slabs, given back once written.
  const bodyPool = new SlabPool(BODY_SLAB_BYTES, BODY_SLABS_KEPT);
  const backpressure = new Backpressure({
    limit: () => config.current.pauseAbove,
    counters,
    tellReady: (msg) => sessions.tellReady(msg),
    gate,
  });
  const writer = new Writer({
    router: output.router,
    checkpoint,
    counters,
    onError,
    clock,
    release: (body) => bodyPool.giveBack(body),
    health: new CheckpointHealth({ log, timers: clock, now: () => clock.date() }),
    onQueued: (bytes) => backpressure.queued(bytes),
    onCommitted,
  });
  const badInputLog = new PeerLogLimit(log, { clock: () => clock.date() });
  const bodySlabs = new SlabCutter(bodyPool);
  return {
    ...{ log, onError, config, clock, counters, sessions, checkpoint, output, writer },
    ...{ access: createAccessCounters(), gate, backpressure, badInputLog, bodySlabs },
  };
}

function linkAcceptance(
  core: Core,
  dispatcher: Dispatcher<CollectorContext>,
  stopping: () => boolean,
  onBytes: (transport: string, bytes: number) => void,
): LinkAcceptance {
  const { config, writer, counters, badInputLog, sessions, backpressure, clock } = core;
  const bodyBuffer = (bytes: number): Buffer => core.bodySlabs.cut(bytes);
  return new LinkAcceptance({
    config: config.read,
    dispatcher,
    admit: (link) => backpressure.admit(link),
    sessions,
    session: {
      settings: config.read,
      writer,
      marks: core.checkpoint,
      live: sessions.live,
      counters,
      paused: () => backpressure.paused,
      clock,
      log: core.log,
    },
    ndjson: { config: config.read, writer, counters, stopping, badInputLog, bodyBuffer },
    counters,
    badInputLog,
    bodyBuffer,
    stopping,
    onBytes,
  });
}

export async function startCollector(initial: CollectorConfig, options: StartOptions): Promise<Collector> {
  const core = await openCore(initial, options, (tick) => metrics.committed(tick));
  const { log, onError, config, clock, counters, sessions, checkpoint, output, writer } = core;
  const listeners = new Listeners((index) => listenerAccess(core, index));
  const endpoint = new MetricsEndpoint();
  const stopping = (): boolean => lifecycle.stopping;
  const udp = { config: config.read, writer, counters, stopping, badInputLog: core.badInputLog };
  const dispatcher = collectorDispatcher(config.current, {
    onError,
    counters,
    log,
    udp,
    access: core.access,
  });
  const acceptance = linkAcceptance(core, dispatcher, stopping, (transport, bytes) => {
    writer.noteBytesRead(bytes);
    metrics.bytesReceived(transport, bytes);
  });
  const scraped = await loadMetrics(config.current, () => metricsSource(core, acceptance));
  const metrics: MetricsSink = scraped ?? NO_METRICS;
  const intake = streamIntake(core);
  const lifecycle: Lifecycle = new Lifecycle({
    ...{ log, onError, writer, listeners, checkpoint, ...intake.stopSteps },
    metrics: endpoint,
    chores: startChores(clock, checkpoint, core.badInputLog),
    links: acceptance,
    wait: (ms) => new Promise((resolve) => clock.setTimeout(resolve, ms)),
  });
  const reloader = new Reloader({
    ...{ config, log, onError },
    source: options.reload,
    targets: {
      ...{ listeners, checkpoint },
      writer: liveWriterKeys(output),
      trace: (on) => dispatcher.setTrace(on ? traceReceived(log) : undefined),
    },
  });
  const startedAt = clock.date();
  const status = (): Record<string, string | number> =>
    statusReport({
      ...{ lifecycle, backpressure: core.backpressure, listeners, checkpoint, writer, counters },
      access: core.access,
      outputs: output,
      health: writer.health,
      links: acceptance,
      sessions: () => sessions.live.values(),
      date: () => clock.date(),
      uptime: () => clock.date() - startedAt,
    });
  const reopen = async (): Promise<void> => {
    // Between ticks, so no batch is split across the old and the new file.
    await writer.idle();
    await output.reopen();
    metrics.reopened();
    log.info('reopened output files');
  };
  const stop = (reason: string): Promise<void> => lifecycle.stop(reason);
  installControlHandlers(dispatcher, {
    ...{ reopen, stop, status, onError },
    reload: async () => {
      const outcome = await reloader.reload();
      metrics.reloaded(outcome.kind);
      return outcome;
    },
    secretCode: () => config.current.secretCode,
  });
  try {
    await listeners.open(config.read, (...link) => acceptance.onLink(...link), httpOpener(core, stopping));
    await endpoint.open(config.read, scraped, () => collectorHealth(core, stopping), core.access);
    await intake.open();
  } catch (error) {
    await listeners.close();
    await endpoint.close();
    await output.close();
    await checkpoint.close();
    throw error;
  }
  const served = endpoint.address === undefined ? {} : { metricsAddress: endpoint.address };
  return { addresses: listeners.addresses(), ...served, stop, done: lifecycle.done, reopen, status };
}

/** With --from-jetstream: the stream is read like one more session, and let go with them on stop. */
function streamIntake(core: Core): {
  readonly stopSteps: Pick<StopSteps, 'sessions' | 'output'>;
  open(): Promise<void>;
} {
  const { config, sessions, output, writer, log, counters } = core;
  let input: JetStreamInput | undefined;
  return {
    stopSteps: {
      sessions: {
        drainAll() {
          sessions.drainAll();
          void input?.close();
        },
      },
      output: {
        async close() {
          await Promise.all([output.close(), input?.disconnect()]);
        },
      },
    },
    async open() {
      const from = config.current.fromJetstream;
      if (from !== undefined) input = await JetStreamInput.open(from, { writer, log, counters });
    },
  };
}

/** How `http/` listeners open: requests to the writer, their Idempotency-Keys kept in the state directory. */
function httpOpener(core: Core, stopping: () => boolean): OpenHttp {
  const { config, writer, counters, backpressure } = core;
  let keys: IdempotencyKeys | undefined;
  return (listener, index, limits, access) => {
    keys ??= new IdempotencyKeys(config.current.state);
    return listenHttp(listener, limits, {
      ...{ writer, counters, stopping, keys },
      config: config.read,
      tokens: () => access.tokens(),
      paused: () => backpressure.paused,
      acceptRemote: access.acceptRemote,
      allowOrigins: () => config.current.listeners[index]?.allowOrigins ?? [],
    });
  };
}

/** The access rules of the listener at `index`, read live (RELOAD); rate_limit holds reading. */
function listenerAccess(core: Core, index: number): ListenerAccess {
  const { config, gate } = core;
  const initial = config.current.listeners[index]!;
  return new ListenerAccess({
    config: config.read,
    listener: () => config.current.listeners[index] ?? initial,
    counters: core.access,
    hold: (link) => gate.hold(link, 'rate'),
    release: (link) => gate.release(link, 'rate'),
    clock: core.clock,
  });
}

/** The metrics, read from the parts at each scrape; the writer's ticks are fed in as committed. */
function metricsSource(core: Core, links: { readonly linkCount: number }): MetricsSource {
  const { sessions, backpressure, writer, output, checkpoint } = core;
  return {
    counters: core.counters,
    access: core.access,
    sessions: () => sessions.live.size,
    connections: () => links.linkCount,
    pausedSessions: () => (backpressure.paused ? sessions.live.size : 0),
    queuedBytes: () => writer.queuedBytes,
    heldBytes: () => backpressure.heldBytes,
    openFiles: () => output.files.reduce((open, file) => open + file.files.openCount, 0),
    udpLost: () => checkpoint.udpLost,
    sources: () => checkpoint.sources(),
    forwards: () => output.forwards.map(({ name, output: forward }) => ({ name, now: forward.now() })),
  };
}

/** `/health`: listeners up, the checkpoint saved, the output and state directories writable. */
function collectorHealth(core: Core, stopping: () => boolean): Promise<Health> {
  const { config, writer } = core;
  return checkHealth({
    listenersUp: () => !stopping(),
    outputDir: () => config.current.output,
    stateDir: () => config.current.state,
    checkpointProblem: () =>
      writer.health.state === 'degraded' ? (writer.health.reason ?? 'cannot be saved') : undefined,
  });
}

/**
 * RELOAD's live keys: without [[output]] tables, path (the router's template, the first entry's)
 * and format of the default file output; validate, of every file output ([[output]] and [[route]]
 * need a restart).
 */
function liveWriterKeys(outputs: CollectorOutputs): { reconfigure(config: CollectorConfig): void } {
  return {
    reconfigure(config) {
      if (config.outputs.length === 0 && outputs.files.length > 0) {
        outputs.router.template = PathTemplate.parse(config.path);
        outputs.files[0]!.settings = fileOutputSettings(config);
        return;
      }
      for (const file of outputs.files) file.settings = { ...file.settings, validate: config.validate };
    },
  };
}

function traceReceived(log: CollectorLog): (entry: TraceEntry) => void {
  return (entry) => log.trace('received', { ...entry });
}

/** The dispatcher with the session commands; control commands are installed beside them. */
function collectorDispatcher(
  config: CollectorConfig,
  deps: {
    onError: (error: unknown) => void;
    counters: CollectorCounters;
    log: CollectorLog;
    udp: UdpDeps;
    access: Pick<AccessCounters, 'refusedToken'>;
  },
): Dispatcher<CollectorContext> {
  const dispatcher = new Dispatcher<CollectorContext>({
    definitions: DEFINITIONS,
    onError: deps.onError,
    onInvalid: (_error, msg, ctx) => {
      deps.counters.protocolErrors += 1;
      // §4: a refused REGISTER closes; an EVENTS that cannot be read cannot be acknowledged.
      if ((msg.command === 'REGISTER' || msg.command === 'EVENTS') && ctx.session !== undefined) {
        ctx.session.messenger.close();
      }
    },
  });
  // Set here, not as an option, so that RELOAD turns it on and off the same way.
  if (config.trace) dispatcher.setTrace(traceReceived(deps.log));
  installStandardHandlers(dispatcher);
  dispatcher.on('REGISTER', (msg, ctx) => {
    if (ctx.session === undefined) return; // no session over UDP (§7)
    ctx.session.register(msg, ctx);
  });
  dispatcher.on('EVENTS', (msg, ctx) => {
    if (ctx.session === undefined && ctx.tokens?.().accepts(msg.params.token) === false) {
      deps.access.refusedToken += 1; // a datagram without an accepted token: dropped unanswered (§7)
    } else if (ctx.session === undefined) acceptUdpEvents(msg, ctx.peer, deps.udp);
    else ctx.session.events(msg, ctx);
  });
  return dispatcher;
}

/** Periodic chores, on the collector's clock; stop() ends them and says what was held back. */
function startChores(
  clock: CollectorClock,
  checkpoint: { forgetIdle(): number },
  badInputLog: PeerLogLimit,
): { stop(): void } {
  const cancels = [
    every(clock, FORGET_IDLE_EVERY_MS, () => checkpoint.forgetIdle()),
    // Says what the rate limit on bad-input lines held back, also when the peer has gone quiet.
    every(clock, DEFAULT_LOG_INTERVAL_MS, () => badInputLog.flush()),
  ];
  return {
    stop() {
      for (const cancel of cancels) cancel();
      badInputLog.flush(Number.POSITIVE_INFINITY);
    },
  };
}
