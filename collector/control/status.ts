/** STATUS (PROTOCOL.md §5): the collector's state and counters, as `OK command=STATUS` fields. */

import type { AccessCounters } from '../access/listener-access.js';
import type { SourceMark } from '../checkpoint/checkpoint-store.js';
import type { CollectorCounters } from '../counters.js';
import { type LiveSession, statusLists } from './status-lists.js';

/** What STATUS reads, each from the part that knows it. */
export interface StatusSources {
  readonly lifecycle: { readonly stopping: boolean };
  readonly health: { readonly state: string; readonly reason: string | undefined };
  readonly backpressure: { readonly paused: boolean; readonly heldBytes: number; readonly heldLinks: number };
  readonly listeners: { readonly count: number };
  readonly links: { readonly linkCount: number };
  readonly checkpoint: {
    sources(): number;
    readonly evicted: number;
    readonly udpLost: number;
    marks(): Iterable<readonly [string, SourceMark]>;
  };
  /** The live sessions (session_list). */
  readonly sessions: () => Iterable<{ live(): LiveSession | undefined }>;
  readonly writer: { readonly queuedBytes: number };
  readonly counters: CollectorCounters;
  readonly access: AccessCounters;
  /** ms since the epoch, on the collector's clock (the lists' `time`). */
  readonly date: () => number;
  /** Each output's `output_<name>_…` fields (open-outputs.ts). */
  readonly outputs?: { report(): Record<string, string | number> };
  /** ms since start, on the collector's clock. */
  readonly uptime: () => number;
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (upper) => `_${upper.toLowerCase()}`);
}

export function statusReport(from: StatusSources): Record<string, string | number> {
  const degraded = from.health.state === 'degraded';
  const state = from.lifecycle.stopping
    ? 'stopping'
    : degraded
      ? 'degraded'
      : from.backpressure.paused
        ? 'paused'
        : 'running';
  return {
    state,
    ...(degraded ? { degraded_reason: `checkpoint: ${from.health.reason ?? 'cannot be saved'}` } : {}),
    uptime_ms: Math.round(from.uptime()),
    listeners: from.listeners.count,
    links: from.links.linkCount,
    sources: from.checkpoint.sources(),
    sources_evicted: from.checkpoint.evicted,
    queued_bytes: from.writer.queuedBytes,
    held_bytes: from.backpressure.heldBytes,
    held_links: from.backpressure.heldLinks,
    udp_lost: from.checkpoint.udpLost,
    ...Object.fromEntries(
      Object.entries({ ...from.counters, ...from.access }).map(([name, value]) => [snakeCase(name), value]),
    ),
    ...from.outputs?.report(),
    ...statusLists(from.sessions(), from.checkpoint.marks(), from.date()),
  };
}
