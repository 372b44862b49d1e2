/**
 * The STATUS reply's lists (PROTOCOL.md §5: `OK command=STATUS;…`). OK carries no body (§2
 * forbids `bytes` on it), so each list is one parameter holding a JSON array, which the line
 * encoder quotes and escapes like any other value:
 *
 *   session_list  the live sessions: source, service, peer, since, last_ack, acked_at
 *   mark_list     the sources' marks, most recently active first: source, mark, seen, lost
 *
 * Both are cut to stay well within the peer's default 64 KiB line (a reader compares their
 * lengths with `live_sessions` and `sources` to tell). docs/collector.md lists every counter.
 */

import type { SourceMark } from '../checkpoint/checkpoint-store.js';

export interface LiveSession {
  readonly source: string;
  readonly service: string;
  /** `transport/remote`, like `tcp/127.0.0.1:51234`. */
  readonly peer: string;
  /** When READY was sent, ms since the epoch. */
  readonly since: number;
  /** The last ACK's seq (the mark at READY before the first ACK). */
  readonly last_ack: number;
  /** When that ACK was sent (READY's time before the first), ms since the epoch. */
  readonly acked_at: number;
}

export interface SourceEntry {
  readonly source: string;
  /** The high-water mark: the highest record number written. */
  readonly mark: number;
  /** Last activity, ms since the epoch. */
  readonly seen: number;
  /** Records counted lost in gaps. */
  readonly lost: number;
}

/** Each list's encoded JSON stays under this: two of them and the counters fit in 64 KiB. */
export const LIST_BUDGET_BYTES = 24 * 1024;

/** The JSON array of `items`, cut to the longest prefix under `budget` bytes. */
export function encodeList(items: readonly object[], budget: number = LIST_BUDGET_BYTES): string {
  let size = 2;
  const parts: string[] = [];
  for (const item of items) {
    const part = JSON.stringify(item);
    // Line escaping (§1) doubles a backslash, and a quoted value escapes each quote: count the
    // part as if both happened, so the encoded line stays within the budget whatever names hold.
    const cost = Buffer.byteLength(part) + (part.match(/[\\"]/g)?.length ?? 0) + 1;
    if (size + cost > budget) break;
    size += cost;
    parts.push(part);
  }
  return `[${parts.join(',')}]`;
}

/** The marks, most recently active first. */
export function sourceEntries(marks: Iterable<readonly [string, SourceMark]>): SourceEntry[] {
  const entries: SourceEntry[] = [];
  for (const [source, mark] of marks) {
    entries.push({ source, mark: mark.last, seen: mark.seen, lost: mark.lost });
  }
  return entries.sort((a, b) => b.seen - a.seen);
}

/** The list parameters of a STATUS reply, and the time they were taken. */
export function statusLists(
  sessions: Iterable<{ live(): LiveSession | undefined }>,
  marks: Iterable<readonly [string, SourceMark]>,
  now: number = Date.now(),
): Record<string, string | number> {
  const live: LiveSession[] = [];
  for (const session of sessions) {
    const entry = session.live();
    if (entry !== undefined) live.push(entry);
  }
  live.sort((a, b) => a.since - b.since);
  return {
    time: now,
    live_sessions: live.length,
    session_list: encodeList(live),
    mark_list: encodeList(sourceEntries(marks)),
  };
}

/** A STATUS reply's parameters as a reader gets them: counters, and the two lists decoded. */
export interface StatusReport {
  readonly counters: Readonly<Record<string, string>>;
  readonly sessions: readonly LiveSession[];
  readonly sources: readonly SourceEntry[];
}

const LIST_PARAMS = ['session_list', 'mark_list'] as const;

/** Reads a STATUS reply's parameters; a list that is absent or unreadable reads as empty. */
export function readStatus(params: Readonly<Record<string, string>>): StatusReport {
  const counters: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (name !== 'command' && !(LIST_PARAMS as readonly string[]).includes(name)) counters[name] = value;
  }
  return {
    counters,
    sessions: jsonList(params.session_list).filter(isLiveSession),
    sources: jsonList(params.mark_list).filter(isSourceEntry),
  };
}

function jsonList(text: string | undefined): unknown[] {
  if (text === undefined) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}

function isLiveSession(value: unknown): value is LiveSession {
  const v = value as Partial<Record<keyof LiveSession, unknown>>;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof v.source === 'string' &&
    typeof v.service === 'string' &&
    typeof v.peer === 'string' &&
    typeof v.since === 'number' &&
    typeof v.last_ack === 'number' &&
    typeof v.acked_at === 'number'
  );
}

function isSourceEntry(value: unknown): value is SourceEntry {
  const v = value as Partial<Record<keyof SourceEntry, unknown>>;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof v.source === 'string' &&
    typeof v.mark === 'number' &&
    typeof v.seen === 'number' &&
    typeof v.lost === 'number'
  );
}
