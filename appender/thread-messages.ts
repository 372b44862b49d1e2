import type { AppenderCounters } from './appender.js';
import type { SharedRing } from './shared-ring.js';

/** What the app's thread and the shipping thread of `createThreadedAppender` tell each other. */

/**
 * Record lines that did not fit in the ring (a string: whole LF-terminated lines), a wake-up
 * (the ring has lines and the thread slept), a flush request, or the end. Each comes after what
 * the ring held when it was posted: the thread takes that first.
 */
export type ToThread =
  | string
  | { readonly type: 'wake' }
  | { readonly type: 'flush'; readonly id: number }
  | { readonly type: 'end' };

export type ToMain =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly message: string; readonly code: string | undefined }
  | { readonly type: 'flushed'; readonly id: number }
  | { readonly type: 'closed' };

/**
 * The shipping thread's state, in ThreadData.state[0]: the app's thread reads it before each post
 * and waits on it at exit. STARTING → RUNNING (its appender exists) → CLOSED; STARTING → FAILED.
 */
export const THREAD_STARTING = 0;
export const THREAD_RUNNING = 1;
export const THREAD_CLOSED = 2;
export const THREAD_FAILED = 3;

export interface ThreadData {
  /** The appender's options, as plain data. */
  readonly options: unknown;
  /** [0]: THREAD_STARTING, THREAD_RUNNING, THREAD_CLOSED or THREAD_FAILED. */
  readonly state: Int32Array;
  /** The counters, in COUNTER_KEYS order, as the shipping thread last saw them. */
  readonly counters: Float64Array;
  /** The record lines, from the app's thread. */
  readonly ring: SharedRing;
}

export const COUNTER_KEYS = [
  'sent',
  'acknowledged',
  'queued',
  'dropped',
  'spooled',
  'reconnects',
] as const satisfies readonly (keyof AppenderCounters)[];
