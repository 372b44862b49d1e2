import type { AppenderCounters } from './appender.js';

/** What the app's thread and the shipping thread of `createThreadedAppender` tell each other. */

/** Record lines (a string: whole LF-terminated lines), a flush request, or the end. */
export type ToThread = string | { readonly type: 'flush'; readonly id: number } | { readonly type: 'end' };

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
}

export const COUNTER_KEYS = [
  'sent',
  'acknowledged',
  'queued',
  'dropped',
  'spooled',
  'reconnects',
] as const satisfies readonly (keyof AppenderCounters)[];
