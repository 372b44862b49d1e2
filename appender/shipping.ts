import type { Clock } from '../shared/net/clock.js';
import type { HeartbeatOptions } from '../shared/net/heartbeat.js';
import type { ConnectFn } from '../shared/net/permanent-client.js';
import type { BatchStore } from '../shared/sender/batch-store.js';
import type { Fallback } from '../shared/sender/fallback.js';
import { MemoryStore } from '../shared/sender/memory-store.js';
import { NdjsonSender } from '../shared/sender/ndjson-sender.js';
import type { RecordQueue } from '../shared/sender/record-queue.js';
import { Sender } from '../shared/sender/sender.js';
import { newSourceId } from '../shared/sender/source-id.js';
import { UdpSender } from '../shared/sender/udp-sender.js';
import type { AppenderOptions } from './options.js';
import { type Shipper, sessionShipper, unackedShipper } from './shipper.js';

/**
 * Picks and builds what ships the record queue, from the options: a session sender over a
 * memory store or a spool (PROTOCOL.md §4), a UDP sender (§7), or plain NDJSON (§10), each behind
 * the one Shipper contract (shipper.ts).
 */

export interface StoreChoice {
  readonly store: BatchStore;
  readonly durable: boolean;
  readonly source: string;
  readonly renew: () => Promise<string>;
}

/** How long closing a link may take to flush before it is destroyed. */
export const CLOSE_GRACE = 800;

/**
 * While batches await their ACK (due within ack_delay, 10 ms by default), this long with
 * nothing from the collector sends ALIVE, and this long again unanswered drops the link: a
 * stopped collector or a black-holed path costs seconds, not the 30 s of ackTimeout.
 */
export const STALL_PROBE_MS = 2000;

/** The heartbeat's spans for `heartbeat` ms of idle silence (never longer while acks are due). */
export function heartbeatSpans(heartbeat: number): HeartbeatOptions {
  const probe = Math.min(STALL_PROBE_MS, heartbeat);
  return { idle: heartbeat, timeout: heartbeat, awaiting: { idle: probe, timeout: probe } };
}

/** The spool when one is set and can be locked; otherwise memory, under a fresh source id. */
export async function chooseStore(
  options: AppenderOptions,
  stderr: (line: string) => void,
): Promise<StoreChoice> {
  const prefix = options.source ?? options.host;
  const spool = options.spool;
  if (spool !== undefined) {
    try {
      // The spool's modules (zlib, file locks) load only for an appender that has one.
      const { openSpoolStore } = await import('../shared/sender/spool-store.js');
      const store = await openSpoolStore(spool.dir, {
        maxBytes: spool.maxBytes,
        fsync: spool.fsync,
        sourcePrefix: prefix,
      });
      return { store, durable: true, source: store.sourceId, renew: () => store.renewSourceId() };
    } catch (error) {
      // PROTOCOL.md §4: a process that cannot take the lock runs without the spool, under a fresh id.
      const reason = error instanceof Error ? error.message : String(error);
      stderr(`logwire appender: running without the spool: ${reason}\n`);
    }
  }
  return {
    store: new MemoryStore(),
    durable: false,
    source: newSourceId(prefix),
    renew: async () => newSourceId(prefix),
  };
}

export interface ShippingParts {
  readonly queue: RecordQueue;
  readonly fallback: Fallback;
  readonly clock: Clock;
  readonly connect: ConnectFn | undefined;
  /** Required for a session. */
  readonly store: StoreChoice | undefined;
  /** A session gives back each acknowledged body here (the batcher writes over it). */
  readonly release?: (body: Buffer) => void;
}

export function createShipper(options: AppenderOptions, parts: ShippingParts): Shipper {
  const { queue, fallback, store } = parts;
  const client = {
    clock: parts.clock,
    backoff: options.backoff,
    connectTimeout: options.connectTimeout,
    closeGrace: CLOSE_GRACE,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    ...(parts.connect === undefined ? {} : { connect: parts.connect }),
  };
  const rateLimit = options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit };
  if (options.delivery === 'udp') {
    const shipper = new UdpSender({
      addresses: options.addresses,
      queue,
      source: newSourceId(options.source ?? options.host),
      host: options.host,
      maxDatagram: options.udp.maxDatagram,
      fallback,
      client,
      ...rateLimit,
    });
    return unackedShipper(shipper, false);
  }
  if (options.delivery === 'ndjson') {
    return unackedShipper(
      new NdjsonSender({ addresses: options.addresses, queue, client, ...rateLimit }),
      true,
    );
  }
  if (store === undefined) throw new Error('a session needs a store');
  const heartbeat = options.heartbeat === 0 ? {} : { heartbeat: heartbeatSpans(options.heartbeat) };
  const sender = new Sender({
    addresses: options.addresses,
    store: store.store,
    durable: store.durable,
    queue,
    source: store.source,
    renewSource: store.renew,
    host: options.host,
    pid: process.pid,
    window: options.window,
    ackTimeout: options.ackTimeout,
    registerTimeout: options.connectTimeout,
    fallback,
    ...rateLimit,
    ...(parts.release === undefined ? {} : { release: parts.release }),
    ...(options.token === undefined ? {} : { token: options.token }),
    client: { ...client, ...heartbeat },
  });
  return sessionShipper(sender, store.durable);
}
