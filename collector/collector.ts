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
import type { Checkpoint } from './checkpoint/checkpoint.js';
import { CheckpointHealth } from './checkpoint/checkpoint-health.js';
import { type CollectorClock, collectorClock, every } from './clock.js';
import type { Collector, CollectorConfig, CollectorLog } from './config/config-types.js';
import { LiveConfig } from './config/live-config.js';
import { Reloader } from './config/reloader.js';
import { installControlHandlers } from './control/control.js';
import { Lifecycle } from './control/lifecycle.js';
import { statusReport } from './control/status.js';
import { type CollectorCounters, createCounters } from './counters.js';
import type { CollectorContext } from './intake/dispatch-context.js';
import { JetStreamInput } from './intake/jetstream-input.js';
import { LinkAcceptance } from './intake/link-acceptance.js';
import { Listeners } from './intake/listeners.js';
import { DEFAULT_LOG_INTERVAL_MS, PeerLogLimit } from './intake/peer-log-limit.js';
import { SessionTable } from './intake/session-table.js';
import { acceptUdpEvents, type UdpDeps } from './intake/udp-intake.js';
import type { FileOutput } from './outputs/file-output.js';
import { JetStreamOutput } from './outputs/jetstream/jetstream-output.js';
import { PathTemplate } from './outputs/path-template.js';
import { fileOutputSettings, openState, type StartOptions } from './state.js';
import { Backpressure } from './writer/backpressure.js';
import { Router } from './writer/router.js';
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
  readonly sessions: SessionTable;
  readonly checkpoint: Checkpoint;
  readonly output: FileOutput;
  /** With --jetstream: where the router sends every batch instead of the file output. */
  readonly published: JetStreamOutput | undefined;
  readonly router: Router;
  readonly writer: Writer;
  readonly backpressure: Backpressure;
  readonly badInputLog: PeerLogLimit;
  readonly bodySlabs: SlabCutter;
}

async function openCore(initial: CollectorConfig, options: StartOptions): Promise<Core> {
  const { log } = options;
  const config = new LiveConfig(initial);
  const clock = collectorClock();
  const sessions = new SessionTable();
  const counters = createCounters();
  const maxSources = (): number => config.current.maxSources;
  const { checkpoint, output } = await openState(initial, options, { sessions, counters, clock, maxSources });
  const onError = (error: unknown): void => log.error(error instanceof Error ? error.message : String(error));
  const published = await openPublished(initial, counters, [output, checkpoint]);
  // Bodies that span socket reads are copied into reused slabs, given back once written.
  const bodyPool = new SlabPool(BODY_SLAB_BYTES, BODY_SLABS_KEPT);
  const backpressure = new Backpressure({
    limit: () => config.current.pauseAbove,
    counters,
    tellReady: (msg) => sessions.tellReady(msg),
  });
  const router = new Router(PathTemplate.parse(initial.path), published ?? output, onError);
  const writer = new Writer({
    router,
    checkpoint,
    counters,
    onError,
    clock,
    release: (body) => bodyPool.giveBack(body),
    health: new CheckpointHealth({ log, timers: clock, now: () => clock.date() }),
    onQueued: (bytes) => backpressure.queued(bytes),
  });
  const badInputLog = new PeerLogLimit(log, { clock: () => clock.date() });
  const bodySlabs = new SlabCutter(bodyPool);
  return {
    ...{ log, onError, config, clock, counters, sessions, checkpoint, output, published, router, writer },
    ...{ backpressure, badInputLog, bodySlabs },
  };
}

function linkAcceptance(
  core: Core,
  dispatcher: Dispatcher<CollectorContext>,
  stopping: () => boolean,
): LinkAcceptance {
  const { config, writer, counters, badInputLog, sessions, backpressure, clock } = core;
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
    },
    ndjson: { config: config.read, writer, counters, stopping, badInputLog },
    counters,
    badInputLog,
    bodyBuffer: (bytes) => core.bodySlabs.cut(bytes),
    stopping,
  });
}

export async function startCollector(initial: CollectorConfig, options: StartOptions): Promise<Collector> {
  const core = await openCore(initial, options);
  const { log, onError, config, clock, counters, sessions, checkpoint, output, writer } = core;
  const listeners = new Listeners();
  const stopping = (): boolean => lifecycle.stopping;
  const udp = { config: config.read, writer, counters, stopping, badInputLog: core.badInputLog };
  const dispatcher = collectorDispatcher(config.current, { onError, counters, log, udp });
  const acceptance = linkAcceptance(core, dispatcher, stopping);
  let input: JetStreamInput | undefined;
  const lifecycle: Lifecycle = new Lifecycle({
    ...{ log, onError, writer, listeners, checkpoint },
    sessions: {
      drainAll() {
        sessions.drainAll();
        void input?.close();
      },
    },
    output: {
      async close() {
        await Promise.all([output.close(), core.published?.close(), input?.disconnect()]);
      },
    },
    chores: startChores(clock, checkpoint, core.badInputLog),
    links: acceptance,
    wait: (ms) => new Promise((resolve) => clock.setTimeout(resolve, ms)),
  });
  const reloader = new Reloader({
    ...{ config, log, onError },
    source: options.reload,
    targets: {
      ...{ listeners, checkpoint },
      writer: liveWriterKeys(core.router, output),
      trace: (on) => dispatcher.setTrace(on ? traceReceived(log) : undefined),
    },
  });
  const startedAt = clock.date();
  const status = (): Record<string, string | number> =>
    statusReport({
      ...{ lifecycle, backpressure: core.backpressure, listeners, checkpoint, writer, counters },
      health: writer.health,
      links: acceptance,
      uptime: () => clock.date() - startedAt,
    });
  const reopen = async (): Promise<void> => {
    // Between ticks, so no batch is split across the old and the new file.
    await writer.idle();
    await output.reopen();
    log.info('reopened output files');
  };
  const stop = (reason: string): Promise<void> => lifecycle.stop(reason);
  installControlHandlers(dispatcher, {
    ...{ reopen, stop, status, onError },
    reload: () => reloader.reload(),
    secretCode: () => config.current.secretCode,
  });
  try {
    await listeners.open(config.read, (listener, slots, link) => acceptance.onLink(listener, slots, link));
    const from = config.current.fromJetstream;
    if (from !== undefined) input = await JetStreamInput.open(from, { writer, log, counters });
  } catch (error) {
    await listeners.close();
    await core.published?.close();
    await output.close();
    await checkpoint.close();
    throw error;
  }
  return { addresses: listeners.addresses(), stop, done: lifecycle.done, reopen, status };
}

/** The JetStream output when configured; what was opened before is closed if it cannot be. */
async function openPublished(
  config: CollectorConfig,
  counters: CollectorCounters,
  opened: ReadonlyArray<{ close(): Promise<void> }>,
): Promise<JetStreamOutput | undefined> {
  if (config.jetstream === undefined) return undefined;
  try {
    return await JetStreamOutput.open(config.jetstream, counters);
  } catch (error) {
    for (const part of opened) await part.close();
    throw error;
  }
}

/** RELOAD's path (the router's template), format and validate (the file output's). */
function liveWriterKeys(router: Router, output: FileOutput): { reconfigure(config: CollectorConfig): void } {
  return {
    reconfigure(config) {
      router.template = PathTemplate.parse(config.path);
      output.settings = fileOutputSettings(config);
    },
  };
}

function traceReceived(log: CollectorLog): (entry: TraceEntry) => void {
  return (entry) => log.trace('received', { ...entry });
}

/** The dispatcher with the session commands; control commands are installed beside them. */
function collectorDispatcher(
  config: CollectorConfig,
  deps: { onError: (error: unknown) => void; counters: CollectorCounters; log: CollectorLog; udp: UdpDeps },
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
    if (ctx.session === undefined) acceptUdpEvents(msg, ctx.peer, deps.udp);
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
