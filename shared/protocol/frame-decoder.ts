/**
 * Streaming decoder: bytes in any chunking → messages with their bodies (PROTOCOL.md §1–2, §6).
 *
 *   push(chunk) ─▶ READ_LINE ──(line has bytes=N, N ≤ limit)──▶ READ_BODY ─▶ message
 *                     │   └──(N > limit)──▶ DISCARD_BODY ─▶ discarded(msg, N)
 *                     └─ bad line: error (skipped), or fatal: first line, 10th in a row, too long
 *
 * The limit is maxBody, or for a numbered batch at least maxNumberedBody (limits.ts `bodyLimit`).
 *
 * Chunks are kept in a list with a byte count; a line or body lying in one chunk is taken as a
 * view, and copied only when it spans chunks. After a fatal error decoding stops.
 */

import { ProtocolError } from '../errors.js';
import {
  bodyLimit,
  DEFAULT_LIMITS,
  type FrameLimits,
  MAX_BAD_LINES_IN_A_ROW,
  parseByteCount,
} from './limits.js';
import { parseLine } from './line.js';
import type { Message } from './message.js';

export interface FrameSink {
  message(msg: Message): void;
  /** A protocol error; when `err.fatal`, send `err.reply` if any and close the connection. */
  error(err: ProtocolError): void;
  /** A message whose body exceeded its limit: the body was skipped, framing holds. */
  discarded?(msg: Message, bodyBytes: number): void;
}

export interface FrameDecoderOptions {
  /**
   * A buffer of `bytes` bytes for a body that spans chunks to be copied into (default: a new
   * Buffer each time). The collector cuts them from reused slabs (shared/slab-cutter.ts).
   */
  readonly bodyBuffer?: (bytes: number) => Buffer;
}

const State = { READ_LINE: 0, READ_BODY: 1, DISCARD_BODY: 2, STOPPED: 3 } as const;
type State = (typeof State)[keyof typeof State];

const LF = 0x0a;
const CR = 0x0d;

export class FrameDecoder {
  private readonly limits: FrameLimits;
  private readonly sink: FrameSink;
  private readonly bodyBuffer: (bytes: number) => Buffer;
  private chunks: Buffer[] = [];
  /** Offset into chunks[0] where unread bytes start. */
  private head = 0;
  private buffered = 0;
  /** Bytes of the current line already searched for LF without finding one. */
  private scanned = 0;
  private state: State = State.READ_LINE;
  private pending: Message | undefined;
  private bodyLeft = 0;
  private linesSeen = 0;
  private badInARow = 0;

  constructor(limits: Partial<FrameLimits> = {}, sink: FrameSink, options: FrameDecoderOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.sink = sink;
    this.bodyBuffer = options.bodyBuffer ?? Buffer.allocUnsafe;
  }

  /** Bytes received for a message not yet whole (a line without its LF, a body still coming). */
  get heldBytes(): number {
    return this.buffered;
  }

  /** True after a fatal error: nothing more will be decoded. */
  get stopped(): boolean {
    return this.state === State.STOPPED;
  }

  push(chunk: Buffer): void {
    if (this.state === State.STOPPED || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.state === State.READ_LINE) {
        if (!this.readLine()) return;
      } else if (this.state === State.READ_BODY) {
        if (!this.readBody()) return;
      } else if (this.state === State.DISCARD_BODY) {
        if (!this.discardBody()) return;
      } else {
        return;
      }
    }
  }

  private readLine(): boolean {
    const end = this.findLF();
    if (end === -1) {
      if (this.buffered > this.limits.maxLine + 1) this.fail(tooLong(this.limits.maxLine));
      return false;
    }
    const raw = this.take(end + 1);
    let length = end;
    if (length > 0 && raw[length - 1] === CR) length -= 1;
    // The limit counts the line alone: no LF, no CR before it.
    if (length > this.limits.maxLine) {
      this.fail(tooLong(this.limits.maxLine));
      return false;
    }
    if (length === 0) return true;
    this.onLine(raw.toString('utf8', 0, length));
    return this.state !== State.STOPPED;
  }

  private onLine(text: string): void {
    const first = this.linesSeen === 0;
    this.linesSeen += 1;
    let msg: Message;
    try {
      msg = parseLine(text);
    } catch (err) {
      const bad = err as ProtocolError;
      this.badInARow += 1;
      if (first) {
        this.fail(
          new ProtocolError(bad.code, `${bad.message} (first line: the peer does not speak logwire)`, {
            fatal: true,
          }),
        );
      } else if (this.badInARow >= MAX_BAD_LINES_IN_A_ROW) {
        this.fail(
          new ProtocolError(
            bad.code,
            `${bad.message} (${MAX_BAD_LINES_IN_A_ROW} unparsable lines in a row)`,
            {
              fatal: true,
              ...(bad.reply === undefined ? {} : { reply: bad.reply }),
            },
          ),
        );
      } else {
        this.sink.error(bad);
      }
      return;
    }
    this.badInARow = 0;
    const bytes = msg.params.bytes;
    if (bytes === undefined) {
      this.sink.message(msg);
      return;
    }
    const count = parseByteCount(bytes);
    if (count === undefined) {
      this.fail(
        new ProtocolError(
          'LW_ERR_BAD_BYTES',
          `${msg.command}: bytes=${JSON.stringify(bytes)} is not a plain decimal number`,
          {
            fatal: true,
            reply: { command: 'INVALID', params: { command: msg.command, reason: 'bad_bytes' } },
          },
        ),
      );
      return;
    }
    this.pending = msg;
    this.bodyLeft = count;
    this.state = count > bodyLimit(msg, this.limits) ? State.DISCARD_BODY : State.READ_BODY;
  }

  private readBody(): boolean {
    if (this.buffered < this.bodyLeft) return false;
    const body = this.take(this.bodyLeft, this.bodyBuffer);
    const msg = this.pending!;
    this.pending = undefined;
    this.state = State.READ_LINE;
    this.sink.message({ ...msg, body });
    return this.state === State.READ_LINE;
  }

  private discardBody(): boolean {
    const dropped = Math.min(this.bodyLeft, this.buffered);
    this.skip(dropped);
    this.bodyLeft -= dropped;
    if (this.bodyLeft > 0) return false;
    const msg = this.pending!;
    this.pending = undefined;
    this.state = State.READ_LINE;
    this.sink.discarded?.(msg, Number(msg.params.bytes));
    return true;
  }

  /** Offset of the next LF from the read position, searching each byte once across pushes. */
  private findLF(): number {
    let base = 0;
    for (let i = 0; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      const start = i === 0 ? this.head : 0;
      const size = chunk.length - start;
      if (base + size > this.scanned) {
        const from = start + Math.max(0, this.scanned - base);
        const at = chunk.indexOf(LF, from);
        if (at !== -1) {
          this.scanned = 0;
          return base + at - start;
        }
      }
      base += size;
    }
    this.scanned = base;
    return -1;
  }

  /** Removes `n` bytes from the front: a view when one chunk holds them, else a copy into `alloc(n)`. */
  private take(n: number, alloc: (bytes: number) => Buffer = Buffer.allocUnsafe): Buffer {
    const first = this.chunks[0];
    if (n === 0 || first === undefined) return Buffer.alloc(0);
    if (first.length - this.head >= n) {
      const view = first.subarray(this.head, this.head + n);
      this.skip(n);
      return view;
    }
    const out = alloc(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const copy = Math.min(chunk.length - this.head, n - filled);
      chunk.copy(out, filled, this.head, this.head + copy);
      filled += copy;
      this.skip(copy);
    }
    return out;
  }

  private skip(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const chunk = this.chunks[0]!;
      const left = chunk.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }

  private fail(err: ProtocolError): void {
    this.state = State.STOPPED;
    this.chunks = [];
    this.buffered = 0;
    this.sink.error(err);
  }
}

function tooLong(maxLine: number): ProtocolError {
  return new ProtocolError(
    'LW_ERR_LINE_TOO_LONG',
    `a line is longer than ${maxLine} bytes: framing is lost`,
    {
      fatal: true,
      reply: { command: 'INVALID', params: { reason: 'too_large' } },
    },
  );
}
