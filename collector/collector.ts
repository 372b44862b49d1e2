/**
 * The collector daemon: wiring only. After start-up the dispatcher drives everything.
 *
 *   listener ─▶ link ─▶ messenger ─▶ dispatcher ─▶ session (REGISTER/EVENTS) ─▶ writer ─▶ ACK
 *      │                                 └─▶ control (LOG · STOP · STATUS · RELOAD · HELP · ALIVE)
 *      ├─ ndjson listener ─▶ ndjson intake ─▶ writer
 *      └─ http listener ─▶ http intake (POST NDJSON) ─▶ writer ─▶ 200
 */

import { mkdir } from 'node:fs/promises';
import { Dispatcher, owedMessage, type TraceEntry } from '../shared/dispatcher/dispatcher.js';
import { installStandardHandlers } from '../shared/dispatcher/standard-handlers.js';
import { LogwireError } from '../shared/errors.js';
import { formatAddress, type Scheme } from '../shared/net/address.js';
import { systemClock } from '../shared/net/clock.js';
import type { Link } from '../shared/net/link.js';
import { type Listener, type ListenLimits, listen } from '../shared/net/listener.js';
import { Messenger } from '../shared/net/messenger.js';
import { parseInteger } from '../shared/protocol/accessors.js';
import { checkMessage, DEFINITIONS } from '../shared/protocol/definitions.js';
import { DEFAULT_MAX_BODY } from '../shared/protocol/limits.js';
import { message } from '../shared/protocol/message.js';
import { SlabCutter } from '../shared/slab-cutter.js';
import { SlabPool } from '../shared/slab-pool.js';
import { Checkpoint } from './checkpoint.js';
import { CheckpointHealth } from './checkpoint-health.js';
import type { Collector, CollectorConfig, CollectorLog, ListenerConfig } from './config-types.js';
import { installControlHandlers, type ReloadOutcome } from './control.js';
import { createCounters } from './counters.js';
import { CONTROL_HEADROOM, DataSlots } from './data-slots.js';
import { HeldBudget } from './held-budget.js';
import { IdempotencyKeys } from './http-idempotency.js';
import { listenHttp } from './http-intake.js';
import { acceptNdjson } from './ndjson-intake.js';
import { originPolicy } from './origin-policy.js';
import type { WritevFn } from './outputs/output-file.js';
import { OutputSet } from './outputs/output-set.js';
import { PathTemplate } from './outputs/path-template.js';
import { DEFAULT_LOG_INTERVAL_MS, PeerLogLimit } from './peer-log-limit.js';
import { ReadGate } from './read-gate.js';
import { logRecovery } from './recovery-log.js';
import { planReload } from './reload-plan.js';
import { Session } from './session.js';
import type { CollectorContext, SessionHost } from './session-host.js';
import { statusLists } from './status-report.js';
import { acceptUdpEvents } from './udp-intake.js';
import { Writer, type WriterSettings } from './writer.js';

export interface StartOptions {
  readonly log: CollectorLog;
  /** Re-reads the configuration for RELOAD. Without it RELOAD is refused. */
  readonly reload?: () => Promise<CollectorConfig>;
  /** Test seam: how output files are written (tests stall it to show backpressure). */
  readonly writev?: WritevFn;
  /** Keep output files the checkpoint cannot account for, instead of refusing to start. */
  readonly acceptOutputs?: boolean;
}

function writerSettings(config: CollectorConfig): WriterSettings {
  return {
    template: PathTemplate.parse(config.path),
    format: config.format,
    validate: config.validate,
    durability: config.durability,
  };
}

/** Slabs for bodies spanning reads: one is cut at a time, for all connections. */
const BODY_SLAB_BYTES = 4 * 1024 * 1024;
/** Free slabs kept: enough for a writer backlog's worth to come back between bursts. */
const BODY_SLABS_KEPT = 4;

/** A stream listener admits CONTROL_HEADROOM sockets beyond its data slots, for control commands. */
function listenLimits(config: CollectorConfig, scheme: Scheme): ListenLimits {
  const headroom = scheme === 'udp' || scheme === 'ndjson' || scheme === 'http' ? 0 : CONTROL_HEADROOM;
  return { maxConnections: config.maxConnections + headroom, idleTimeout: config.idleTimeout };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (upper) => `_${upper.toLowerCase()}`);
}

export async function startCollector(initial: CollectorConfig, options: StartOptions): Promise<Collector> {
  const { log } = options;
  let config = initial;
  await mkdir(config.output, { recursive: true, mode: config.dirMode });
  /** The live session of each source. */
  const sessions = new Map<string, Session>();
  const checkpoint = await Checkpoint.open(config.state, {
    durability: config.durability,
    sourceTtl: config.sourceTtl,
    maxSources: () => config.maxSources,
    // A live session's mark is never evicted: its retransmissions are the likeliest.
    inUse: (source) => sessions.has(source),
    ...(options.acceptOutputs === true ? { acceptOutputs: true } : {}),
  });
  const counters = createCounters();
  let outputs: OutputSet | undefined;
  const listeners: Listener[] = [];
  /** Each listener's session slots (max_connections), in the order of `listeners`. */
  const dataSlots: DataSlots[] = [];
  try {
    const recovery = await checkpoint.recover(config.output);
    logRecovery(log, recovery);
    outputs = await OutputSet.open({
      dir: config.output,
      fileMode: config.fileMode,
      dirMode: config.dirMode,
      maxOpenFiles: config.maxOpenFiles,
      fileIdleClose: config.fileIdleClose,
      durability: config.durability,
      exclude: [config.state],
      // A new file's identity is saved before its first byte, so recovery can cut it (checkpoint.ts).
      onOpen: (file) => checkpoint.noteOpened(file),
      onVanished: (path, whereabouts) => {
        if (whereabouts === 'deleted') {
          counters.outputsDeleted += 1;
          log.warn('output file deleted while open: reopened it, and wrote the current batch again there', {
            path,
          });
        } else {
          counters.outputsMoved += 1;
          log.info('output file moved away while open: writing to a new file at its path', { path });
        }
      },
      ...(options.writev === undefined ? {} : { writev: options.writev }),
    });
  } catch (error) {
    await checkpoint.close();
    throw error;
  }
  /** Every stream session, registered or not: STOP drains them all. */
  const allSessions = new Set<Session>();
  const links = new Set<Link>();
  let paused = false;
  let holding: 'all' | 'ndjson' | 'none' = 'none';
  let stopping: Promise<void> | undefined;
  let resolveDone!: () => void;
  let rejectDone!: (error: unknown) => void;
  let failedStop: unknown;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  const startedAt = Date.now();
  const badInputLog = new PeerLogLimit(log);
  const onError = (error: unknown): void => {
    log.error(error instanceof Error ? error.message : String(error));
  };

  // Bodies that span socket reads are copied into reused slabs, given back once written.
  const bodyPool = new SlabPool(BODY_SLAB_BYTES, BODY_SLABS_KEPT);
  const bodySlabs = new SlabCutter(bodyPool);
  // Links are not read while the backlog or the held budget says so (each decides apart).
  const gate = new ReadGate();
  const heldBudget = new HeldBudget<Link>({
    limit: () => config.pauseAbove,
    stop: (link) => gate.hold(link, 'budget'),
    resume: (link) => gate.release(link, 'budget'),
  });
  const writer = new Writer(writerSettings(config), {
    outputs,
    checkpoint,
    counters,
    onError,
    release: (body) => bodyPool.giveBack(body),
    health: new CheckpointHealth({ log }),
    // Backpressure (issue #5): PAUSE every session when outputs fall behind, UNPAUSE at half.
    // Links that cannot be asked (ndjson), or that ignore PAUSE past twice the limit, are simply
    // not read until the backlog is below half: memory stays bounded whatever a peer sends.
    onQueued: (bytes) => {
      const limit = config.pauseAbove;
      if (!paused && bytes > limit) setPaused(true);
      else if (paused && bytes <= limit / 2) setPaused(false);
      const hold = bytes > 2 * limit ? 'all' : paused ? 'ndjson' : 'none';
      if (hold !== holding) setHolding(hold);
      heldBudget.setQueued(bytes);
    },
  });

  function setHolding(hold: 'all' | 'ndjson' | 'none'): void {
    holding = hold;
    for (const link of links) {
      const held = hold === 'all' || (hold === 'ndjson' && link.peer.transport === 'ndjson');
      if (held) gate.hold(link, 'backlog');
      else gate.release(link, 'backlog');
    }
  }

  function setPaused(on: boolean): void {
    paused = on;
    if (on) counters.pauses += 1;
    for (const session of sessions.values()) {
      if (session.state === 'ready') session.messenger.send(message(on ? 'PAUSE' : 'UNPAUSE'));
    }
  }

  const host: SessionHost = {
    config: () => config,
    writer,
    checkpoint,
    counters,
    sessions,
    paused: () => paused,
    stopping: () => stopping !== undefined,
    log,
    badInputLog,
    clock: systemClock,
  };

  const dispatcher = new Dispatcher<CollectorContext>({
    definitions: DEFINITIONS,
    onError,
    onInvalid: (_error, msg, ctx) => {
      counters.protocolErrors += 1;
      // §4: a refused REGISTER closes; an EVENTS that cannot be read cannot be acknowledged.
      if ((msg.command === 'REGISTER' || msg.command === 'EVENTS') && ctx.session !== undefined) {
        ctx.session.messenger.close();
      }
    },
  });
  // Set here, not as an option, so that RELOAD turns it on and off the same way.
  const traceReceived = (entry: TraceEntry): void => log.trace('received', { ...entry });
  if (config.trace) dispatcher.setTrace(traceReceived);
  installStandardHandlers(dispatcher);
  dispatcher.on('REGISTER', (msg, ctx) => {
    if (ctx.session === undefined) return; // no session over UDP (§7)
    ctx.session.register(msg, ctx);
  });
  dispatcher.on('EVENTS', (msg, ctx) => {
    if (ctx.session === undefined) acceptUdpEvents(msg, ctx.peer, host);
    else ctx.session.events(msg, ctx);
  });
  installControlHandlers(dispatcher, {
    reopen: () => reopen(),
    reload: () => reload(),
    stop: (reason) => stop(reason),
    status: () => status(),
    secretCode: () => config.secretCode,
    onError,
  });

  function onLink(listener: ListenerConfig, slots: DataSlots, link: Link): void {
    if (stopping !== undefined) {
      link.destroy();
      return;
    }
    links.add(link);
    link.once('close', () => {
      links.delete(link);
      heldBudget.remove(link);
      gate.forget(link);
    });
    if (holding === 'all' || (holding === 'ndjson' && link.peer.transport === 'ndjson')) {
      gate.hold(link, 'backlog');
    }
    const onHeld = (bytes: number): void => heldBudget.update(link, bytes);
    if (link.peer.transport === 'ndjson') {
      acceptNdjson(link, listener.service, host, onHeld);
      return;
    }
    counters.connections += 1;
    const udp = link.peer.transport === 'udp';
    const messenger = new Messenger(link, {
      limits: { maxLine: config.maxLine, maxBody: config.maxBody },
      onSend: (msg) => dispatcher.noteSent(msg),
      replies: !udp,
      bodyBuffer: (bytes) => bodySlabs.cut(bytes),
      onHeld,
    });
    const session = udp ? undefined : new Session(messenger, host, slots);
    if (session !== undefined) {
      allSessions.add(session);
      messenger.once('close', () => allSessions.delete(session));
    }
    const ctx: CollectorContext = {
      peer: link.peer,
      session,
      reply: udp ? () => {} : (msg) => void messenger.send(msg),
    };
    messenger.on('message', (msg) => {
      session?.heard(msg);
      dispatcher.dispatch(msg, ctx);
    });
    messenger.on('discarded', (msg) => {
      // Never dispatched, so checked here: a bad line must not reach the session (§6).
      const invalid = checkMessage(msg, DEFINITIONS);
      if (invalid !== undefined) {
        counters.protocolErrors += 1;
        if (invalid.reply !== undefined) ctx.reply(owedMessage(invalid.reply));
        if (session !== undefined) session.messenger.close();
        return;
      }
      if (session !== undefined && msg.command === 'EVENTS') session.discarded(msg, ctx);
      else counters.rejected += parseInteger(msg.params.count ?? '0') ?? 0;
    });
    messenger.on('protocolError', (error) => {
      counters.protocolErrors += 1;
      if (udp) counters.datagramsDropped += 1;
      badInputLog.warn(
        link.peer,
        `protocol error from ${link.peer.transport}/${link.peer.remote}: ${error.message}`,
      );
    });
    messenger.once('close', () => session?.closed());
  }

  // HTTP ingest keeps the Idempotency-Keys it wrote in the state directory (http-idempotency.ts).
  const httpKeys = config.listeners.some((l) => l.address.scheme === 'http')
    ? new IdempotencyKeys(config.state)
    : undefined;
  try {
    for (const [index, listener] of config.listeners.entries()) {
      const slots = new DataSlots(config.maxConnections);
      dataSlots.push(slots);
      const { scheme } = listener.address;
      if (scheme === 'http' && httpKeys !== undefined) {
        const allowOrigins = () => config.listeners[index]?.allowOrigins ?? [];
        listeners.push(
          await listenHttp(listener, listenLimits(config, scheme), { host, keys: httpKeys, allowOrigins }),
        );
        continue;
      }
      listeners.push(
        await listen(
          listener.address,
          {
            ...listenLimits(config, scheme),
            handshakeTimeout: config.handshakeTimeout,
            ...(listener.tls === undefined ? {} : { tls: listener.tls }),
            ...(listener.unix === undefined ? {} : { unix: listener.unix }),
            ...(listener.address.scheme === 'ws' || listener.address.scheme === 'wss'
              ? // ws buffers whole messages: bound each to one protocol message (§8), whose numbered
                // body may reach 16 MiB whatever max_body (§3).
                {
                  ws: {
                    path: listener.address.path ?? '/',
                    maxPayload: config.maxLine + 1 + Math.max(config.maxBody, DEFAULT_MAX_BODY),
                    // Read at each upgrade: RELOAD may change allow_origins and token (not the listeners).
                    acceptOrigin: originPolicy(
                      () => config.listeners[index]?.allowOrigins ?? [],
                      () => config.token,
                    ),
                  },
                }
              : {}),
          },
          (link) => onLink(listener, slots, link),
        ),
      );
    }
  } catch (error) {
    await Promise.allSettled(listeners.map((l) => l.close()));
    await outputs.close();
    await checkpoint.close();
    throw error instanceof LogwireError
      ? error
      : new LogwireError('LW_ERR_LISTEN', String(error), { cause: error });
  }

  // Marks idle longer than source_ttl are forgotten (§4); checked hourly, saved with the next tick.
  const forgetTimer = setInterval(() => checkpoint.forgetIdle(), 3_600_000);
  forgetTimer.unref();
  // Says what the rate limit on bad-input lines held back, also when the peer has gone quiet.
  const badInputTimer = setInterval(() => badInputLog.flush(), DEFAULT_LOG_INTERVAL_MS);
  badInputTimer.unref();

  async function reload(): Promise<ReloadOutcome> {
    if (options.reload === undefined) return { kind: 'refused', reason: 'no_config_source' };
    let next: CollectorConfig;
    try {
      next = await options.reload();
    } catch (error) {
      onError(error);
      return { kind: 'refused', reason: 'bad_config', error: errorText(error) };
    }
    const plan = planReload(config, next);
    if (plan.kind === 'restart_needed') {
      log.warn(`RELOAD refused: ${plan.keys.join(', ')} cannot change without a restart`);
      return { kind: 'refused', reason: 'restart_needed', keys: plan.keys };
    }
    apply(next);
    log.info('configuration reloaded', { changed: plan.changed });
    return { kind: 'applied', changed: plan.changed };
  }

  /** Puts every live key of `next` to work (reload-plan.ts says which keys are live). */
  function apply(next: CollectorConfig): void {
    writer.settings = writerSettings(next);
    listeners.forEach((listener, i) => {
      listener.setLimits(listenLimits(next, listener.address.scheme));
      dataSlots[i]!.limit = next.maxConnections;
    });
    if (next.sourceTtl !== config.sourceTtl) {
      checkpoint.setSourceTtl(next.sourceTtl);
      // A shorter source_ttl forgets now what it would forget at the next hourly check.
      checkpoint.forgetIdle();
    }
    dispatcher.setTrace(next.trace ? traceReceived : undefined);
    // The rest (token, secret_code, max_sources, pause_above, ack_delay) is read where used.
    config = next;
  }

  async function reopen(): Promise<void> {
    // Between ticks, so no batch is split across the old and the new file.
    await writer.idle();
    await outputs!.reopenAll();
    log.info('reopened output files');
  }

  function status(): Record<string, string | number> {
    const degraded = writer.health.state === 'degraded';
    return {
      state: stopping !== undefined ? 'stopping' : degraded ? 'degraded' : paused ? 'paused' : 'running',
      ...(degraded ? { degraded_reason: `checkpoint: ${writer.health.reason ?? 'cannot be saved'}` } : {}),
      uptime_ms: Date.now() - startedAt,
      listeners: listeners.length,
      links: links.size,
      sources: checkpoint.sources(),
      sources_evicted: checkpoint.evicted,
      queued_bytes: writer.queuedBytes,
      held_bytes: heldBudget.heldBytes,
      held_links: heldBudget.stoppedCount,
      udp_lost: checkpoint.udpLost,
      ...Object.fromEntries(Object.entries(counters).map(([name, value]) => [snakeCase(name), value])),
      ...statusLists(sessions.values(), checkpoint.marks()),
    };
  }

  function stop(reason: string): Promise<void> {
    stopping ??= (async () => {
      log.info(`stopping (${reason}): draining`);
      clearInterval(forgetTimer);
      clearInterval(badInputTimer);
      badInputLog.flush(Number.POSITIVE_INFINITY);
      try {
        // From here new links are refused (onLink), sessions read no more EVENTS, and UDP and
        // ndjson input is ignored (host.stopping). A checkpoint that cannot be saved is tried
        // once more, not waited for: what it would cover stays unacknowledged.
        writer.giveUp();
        for (const session of allSessions) session.drain();
        await writer.idle();
        // Acks go out on the next turn; then every link ends once its queued writes are flushed.
        await new Promise((resolve) => setImmediate(resolve));
        const ended = [...links].map(
          (link) => new Promise<void>((resolve) => link.once('close', () => resolve())),
        );
        for (const link of links) link.close();
        await Promise.race([Promise.all(ended), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
        await Promise.allSettled(listeners.map((l) => l.close()));
        // A closing ndjson link hands over its last line without LF: write it too.
        await writer.idle();
        await outputs!.close();
        await checkpoint.save().catch((error: unknown) => {
          throw new LogwireError(
            'LW_ERR_CHECKPOINT',
            `stopped without saving the checkpoint (${error instanceof Error ? error.message : String(error)}): ` +
              'what was written since the last save was not acknowledged; its senders resend it, ' +
              'and the next start cuts it back',
            { cause: error },
          );
        });
        log.info('stopped');
      } catch (error) {
        onError(error);
        failedStop = error;
      } finally {
        await checkpoint.close().catch(onError);
        if (failedStop === undefined) resolveDone();
        else rejectDone(failedStop);
      }
    })();
    return stopping;
  }

  return {
    addresses: listeners.map((l) => formatAddress(l.address)),
    stop,
    done,
    reopen,
    status,
  };
}
