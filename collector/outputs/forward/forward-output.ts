/**
 * The forward output (`--forward ADDRESS`…): what the collector accepts goes to an upstream
 * collector, through a durable spool under `<state>/forward/`. Its part of a tick:
 *
 *   write: append the tick's batches to the spool (whole, with their own source and numbers)
 *     ─▶ the writer saves the marks (the spool's position commits with them, relay-spool.ts)
 *     ─▶ committed: the batches may go upstream ─▶ the clients' ACK
 *   failed tick: undo cuts the spool back
 *
 * A full spool (forward_spool_max_bytes) holds the write until the upstream frees room: the
 * writer's queue grows and the collector PAUSEs its clients (writer/backpressure.ts), so nothing
 * is dropped. Records that came without a session (UDP, NDJSON) are numbered here under a
 * source of this relay's own (relay-numbering.ts).
 */

import { LogwireError } from '../../../shared/errors.js';
import type { BatchJob } from '../../writer/write-job.js';
import type { Output, OutputPart, RoutedBatch, TickRecords } from '../output.js';
import { Forwarder, type ForwarderSettings } from './forwarder.js';
import type { RelayNumbering } from './relay-numbering.js';
import type { RelaySpool } from './relay-spool.js';
import type { RelayBatch } from './spool-entry.js';

/** What the relay is doing now (STATUS `forward_…`, the `logwire_forward_…` gauges). */
export interface ForwardStatus {
  readonly state: string;
  readonly sessions: number;
  readonly spoolBytes: number;
  readonly waiting: number;
}

export class ForwardOutput implements Output {
  readonly #spool: RelaySpool;
  readonly #forwarder: Forwarder;
  readonly #numbering: RelayNumbering;
  readonly #maxBytes: number;
  #closed = false;
  /** Writes held by a full spool, woken when the upstream frees room (or on close). */
  #roomWaiters: Array<() => void> = [];

  constructor(
    spool: RelaySpool,
    numbering: RelayNumbering,
    settings: ForwarderSettings & { spoolMaxBytes: number },
  ) {
    this.#spool = spool;
    this.#numbering = numbering;
    this.#maxBytes = settings.spoolMaxBytes;
    this.#forwarder = new Forwarder(spool, settings, () => this.#freed());
  }

  stage(batches: readonly RoutedBatch[], records: (job: BatchJob) => TickRecords, _now: number): OutputPart {
    const relay: RelayBatch[] = [];
    const numbered = this.#numbering.begin();
    for (const { job, skip, body, count } of batches) {
      const counts = records(job);
      if (body === undefined) {
        counts.rejected += count - skip;
        continue;
      }
      const { service, host } = job.route;
      if (job.mode === 'session' && body === job.body) {
        relay.push({ source: job.route.source, service, host, seq: job.seq, count, body });
      } else {
        // No session, or only some of the batch's records (routing by level): this relay's numbers.
        const kept = skip === 0 ? body : dropHead(body, skip);
        relay.push({ ...numbered.next(service, count - skip), service, host: numbered.host, body: kept });
      }
      counts.written += count - skip;
    }
    return {
      declare: async () => undefined,
      write: () => this.#write(relay),
      undo: async () => {
        numbered.undo();
        await this.#spool.cutBack();
      },
      committed: () => this.#forwarder.committed(this.#spool.commit()),
    };
  }

  prepare(_path: string): void {}

  async reopen(): Promise<void> {}

  now(): ForwardStatus {
    return {
      state: this.#forwarder.state(),
      sessions: this.#forwarder.sessions,
      spoolBytes: this.#spool.bytes,
      waiting: this.#spool.records,
    };
  }

  /** STATUS fields, `<prefix>state`, `_sessions`, `_spool_bytes`, `_waiting`. */
  status(prefix: string): Record<string, string | number> {
    const now = this.now();
    return {
      [`${prefix}state`]: now.state,
      [`${prefix}sessions`]: now.sessions,
      [`${prefix}spool_bytes`]: now.spoolBytes,
      [`${prefix}waiting`]: now.waiting,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#freed();
    await this.#forwarder.close();
    this.#spool.close();
  }

  async #write(batches: readonly RelayBatch[]): Promise<void> {
    while (this.#spool.bytes > 0 && this.#spool.bytes >= this.#maxBytes) {
      if (this.#closed) throw new LogwireError('LW_ERR_CLOSED', 'the forward output is closed');
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
    if (this.#closed) throw new LogwireError('LW_ERR_CLOSED', 'the forward output is closed');
    await this.#spool.append(batches);
  }

  #freed(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }
}

/** The body without its first `skip` records (newline-terminated lines). */
function dropHead(body: Buffer, skip: number): Buffer {
  let at = 0;
  for (let i = 0; i < skip; i += 1) {
    const end = body.indexOf(0x0a, at);
    if (end < 0) return body.subarray(body.length);
    at = end + 1;
  }
  return body.subarray(at);
}
