import type { Message } from './message.js';

/** Size limits of the framing (PROTOCOL.md §1–2), in bytes. */
export interface FrameLimits {
  /** Longest line, without its LF. */
  readonly maxLine: number;
  /** Largest body; a larger one is read and discarded, its message reported. */
  readonly maxBody: number;
  /**
   * Largest body of a numbered batch (EVENTS with `seq`), accepted whatever `maxBody` says
   * (PROTOCOL.md §3): a batch numbered against a larger limit must still be delivered, never cut.
   */
  readonly maxNumberedBody: number;
}

export const DEFAULT_MAX_LINE = 64 * 1024;
export const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
export const DEFAULT_LIMITS: FrameLimits = Object.freeze({
  maxLine: DEFAULT_MAX_LINE,
  maxBody: DEFAULT_MAX_BODY,
  maxNumberedBody: DEFAULT_MAX_BODY,
});

/** The largest body `msg` may carry: the numbered floor for a numbered batch, else `maxBody`. */
export function bodyLimit(msg: Pick<Message, 'command' | 'params'>, limits: FrameLimits): number {
  const numbered = msg.command === 'EVENTS' && msg.params.seq !== undefined;
  return numbered ? Math.max(limits.maxBody, limits.maxNumberedBody) : limits.maxBody;
}

/** Unparsable lines in a row after which a connection is closed (PROTOCOL.md §6). */
export const MAX_BAD_LINES_IN_A_ROW = 10;

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/** Reads `bytes=N`: a plain decimal number up to 2^53−1, or undefined when it is not one. */
export function parseByteCount(value: string): number | undefined {
  if (!DECIMAL.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}
