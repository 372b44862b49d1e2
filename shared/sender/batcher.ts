import { type Clock, systemClock, type TimerHandle } from '../net/clock.js';
import { DEFAULT_MAX_BODY } from '../protocol/limits.js';
import { SlabPool } from '../slab-pool.js';

/**
 * Collects record lines into batch bodies (PROTOCOL.md §3: K LF-terminated lines), cut by
 * record count, byte size or delay. Input arrives in any chunking (pino's worker hands over
 * many lines per chunk, a line may be split across two, an in-process logger writes one line
 * per call), as strings or Buffers. Everything is written into a slab, lines are found with
 * `indexOf(LF)`, and a cut hands over a view of the slab: no copy and no allocation per batch,
 * never one per record (ARCHITECTURE.md "Habits"). Bytes below `start` belong to the batches
 * handed over, so a slab with a lent batch not yet given back (`release`) is never written below
 * `start` again: when it is full, another slab takes the bytes not yet cut, and the old one lives
 * as long as its batches do. Slabs whose batches all came back are written again (slab-pool.ts).
 *
 *   push(chunk) ─▶ slab: [ lent batches … | start … complete | partial line … used ]
 *                                            └─ cut ─▶ sink.batch(view, count)
 *
 * Empty lines are not records and are skipped. A line longer than `maxRecordBytes` is never
 * kept whole in memory: it goes, piece by piece, to `sink.oversize` and is not batched.
 */

export interface BatchLimits {
  /** Most records in one batch. */
  readonly maxRecords: number;
  /** Most body bytes in one batch; a single longer record makes a batch alone. */
  readonly maxBytes: number;
  /** Most ms the first record of a batch waits for more; 0 cuts at the end of every push. */
  readonly maxDelay: number;
}

export interface BatcherSink {
  /**
   * A cut batch: `count` whole lines, each ending with LF. The body is a view the batcher never
   * writes again until it is given back with `release`: the receiver keeps it as long as it
   * likes, and must not write into it.
   */
  batch(body: Buffer, count: number): void;
  /**
   * A piece of a record longer than `maxRecordBytes` (a view, valid during the call only);
   * `end` is true on its last piece. The record is dropped: count it, write it to fallback.
   */
  oversize?(piece: Buffer, end: boolean): void;
}

export interface BatcherOptions extends BatchLimits {
  /** Longest record kept; longer ones go to `sink.oversize`. Default DEFAULT_MAX_BODY. */
  readonly maxRecordBytes?: number;
  readonly clock?: Clock;
}

const LF = 0x0a;
const MIN_SLAB = 64 * 1024;
/** Free slabs kept for reuse: enough for a window's worth of acknowledged slabs to come back. */
const MAX_FREE_SLABS = 4;

export class Batcher {
  readonly #limits: BatchLimits;
  readonly #maxRecordBytes: number;
  readonly #sink: BatcherSink;
  readonly #clock: Clock;
  readonly #pool: SlabPool;
  #slab: Buffer;
  /** Where the current batch starts in the slab. */
  #start = 0;
  /** End of the last whole line of the current batch. */
  #complete = 0;
  /** End of the bytes written. */
  #used = 0;
  /** Records in the current batch. */
  #count = 0;
  /** True while the rest of an oversize record is being skipped up to its LF. */
  #skipping = false;
  #timer: TimerHandle | undefined;
  #ended = false;

  constructor(options: BatcherOptions, sink: BatcherSink) {
    this.#limits = { maxRecords: options.maxRecords, maxBytes: options.maxBytes, maxDelay: options.maxDelay };
    this.#maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_BODY;
    this.#sink = sink;
    this.#clock = options.clock ?? systemClock;
    this.#pool = new SlabPool(
      Math.max(MIN_SLAB, Math.min(options.maxBytes * 2, 4 * 1024 * 1024)),
      MAX_FREE_SLABS,
    );
    this.#slab = this.#pool.take(0);
  }

  /** Records waiting in the current, not yet cut, batch. */
  get pendingRecords(): number {
    return this.#count;
  }

  /** Bytes held: the current batch and any partial line. */
  get pendingBytes(): number {
    return this.#used - this.#start;
  }

  /** Takes a chunk of input. Throws nothing; after `end` it does nothing. */
  push(chunk: string | Buffer): void {
    if (this.#ended || chunk.length === 0) return;
    if (typeof chunk === 'string') {
      this.#writeString(chunk);
    } else {
      this.#reserve(chunk.length);
      const from = this.#used;
      chunk.copy(this.#slab, from);
      this.#used += chunk.length;
      this.#scan(from, undefined);
    }
    if (this.#count > 0) {
      if (this.#limits.maxDelay === 0) this.cut();
      else if (this.#timer === undefined)
        this.#timer = this.#clock.setTimeout(() => this.#onTimer(), this.#limits.maxDelay);
    }
  }

  /**
   * Writes a string at `used` and scans it. When it was all ASCII (one byte per UTF-16 unit), its
   * own indices are slab offsets from where it starts, and the scan searches the string. No
   * exact byte count first: room for `length + 4` is made (enough for ASCII), and `write` stops
   * only at a whole character, so a write that left more than 3 bytes free wrote everything.
   * Only a write that filled the room is measured and, when it did not take the whole string,
   * redone with room for all of it.
   */
  #writeString(chunk: string): void {
    this.#reserve(chunk.length + 4);
    const room = this.#slab.length - this.#used;
    let written = this.#slab.write(chunk, this.#used);
    if (written > room - 4) {
      const bytes = Buffer.byteLength(chunk, 'utf8');
      if (bytes > written) {
        this.#reserve(bytes);
        written = this.#slab.write(chunk, this.#used);
      }
    }
    const from = this.#used;
    this.#used += written;
    this.#scan(from, written === chunk.length ? chunk : undefined);
  }

  /** Cuts the current batch now, if it holds any record (a partial line stays). */
  cut(): void {
    this.#clearTimer();
    if (this.#count === 0) return;
    const body = this.#slab.subarray(this.#start, this.#complete);
    this.#pool.lend(body);
    const count = this.#count;
    this.#start = this.#complete;
    this.#count = 0;
    this.#sink.batch(body, count);
  }

  /**
   * `body`, a batch this batcher cut, will never be read again (the collector acknowledged it):
   * its bytes may be written over. Give each body back at most once, and only when nothing at
   * all (a socket, a fallback file, a spool write) may still read it; a body never given back is
   * simply left to the garbage collector.
   */
  release(body: Buffer): void {
    this.#pool.giveBack(body);
  }

  /** The input is over: a last line without LF is ended with one, and everything is cut. */
  end(): void {
    if (this.#ended) return;
    if (this.#skipping) {
      this.#sink.oversize?.(Buffer.from('\n'), true);
      this.#skipping = false;
    } else if (this.#used > this.#complete) {
      this.push('\n');
    }
    this.#ended = true;
    this.cut();
  }

  /**
   * Scans the bytes from `from` to `used` for line ends. `text`, when given, is the ASCII string
   * just written at `from`: its `indexOf` finds an LF for much less than a call into
   * `Buffer.indexOf` (this runs once per record).
   */
  #scan(from: number, text: string | undefined): void {
    const slab = this.#slab;
    const used = this.#used;
    const limits = this.#limits;
    let at = from;
    while (at < used) {
      let lf: number;
      if (text !== undefined) {
        lf = text.indexOf('\n', at - from);
        if (lf === -1) break;
        lf += from;
      } else {
        lf = slab.indexOf(LF, at);
        if (lf === -1 || lf >= used) break;
      }
      at = lf + 1;
      if (this.#skipping) {
        this.#endOversize(lf);
        at = this.#complete;
        continue;
      }
      const length = at - this.#complete;
      if (length === 1) {
        this.#skipEmptyLine();
        continue;
      }
      if (length > this.#maxRecordBytes) {
        this.#dropLine(lf);
        at = this.#complete;
        continue;
      }
      if (this.#count > 0 && at - this.#start > limits.maxBytes) this.cut();
      this.#complete = at;
      this.#count += 1;
      if (this.#count >= limits.maxRecords || at - this.#start >= limits.maxBytes) this.cut();
    }
    if (this.#skipping) {
      // The whole rest belongs to the oversize record: hand it over, keep none of it.
      if (this.#used > this.#complete)
        this.#sink.oversize?.(this.#slab.subarray(this.#complete, this.#used), false);
      this.#used = this.#complete;
    } else if (this.#used - this.#complete > this.#maxRecordBytes) {
      this.#startOversize();
    }
  }

  /** An empty line is no record: a batch never holds one, so cut before it and step over it. */
  #skipEmptyLine(): void {
    this.cut();
    this.#complete += 1;
    this.#start = this.#complete;
  }

  /** A whole line over the record limit, lying in the slab up to `lf`. */
  #dropLine(lf: number): void {
    this.cut();
    this.#sink.oversize?.(this.#slab.subarray(this.#complete, lf + 1), true);
    this.#complete = lf + 1;
    this.#start = this.#complete;
  }

  /** A partial line already over the limit: hand over what there is and skip to its LF. */
  #startOversize(): void {
    this.cut();
    this.#sink.oversize?.(this.#slab.subarray(this.#complete, this.#used), false);
    this.#used = this.#complete;
    this.#start = this.#complete;
    this.#skipping = true;
  }

  #endOversize(lf: number): void {
    this.#sink.oversize?.(this.#slab.subarray(this.#complete, lf + 1), true);
    this.#complete = lf + 1;
    this.#start = this.#complete;
    this.#skipping = false;
  }

  /**
   * Makes room for `bytes` more after `used`. The bytes not yet cut (`start` … `used`) move only
   * here, once per chunk: within the slab when none of its batches is out, else to another slab
   * (a free one, or new), sized for them and the chunk. Moving to another slab first cuts the
   * whole lines waiting there: the end of a slab ends a batch, so batches tile their slabs and
   * only a partial line is copied (else a batch nearly full, about to be cut, moved whole, and
   * the rest of its slab stayed unused as long as the slab's other batches were held).
   */
  #reserve(bytes: number): void {
    if (this.#used + bytes <= this.#slab.length) return;
    if (this.#complete > this.#start && !this.#pool.idle(this.#slab)) this.cut();
    const live = this.#used - this.#start;
    const needed = live + bytes;
    let target = this.#slab;
    if (!this.#pool.idle(this.#slab)) {
      target = this.#pool.take(needed);
    } else if (needed > this.#slab.length) {
      // Doubling: a long line arriving in many small pieces is moved O(log n) times, not O(n).
      target = this.#pool.take(Math.max(needed, this.#slab.length * 2));
    }
    this.#slab.copy(target, 0, this.#start, this.#used);
    if (target !== this.#slab) this.#pool.retire(this.#slab);
    this.#slab = target;
    this.#complete -= this.#start;
    this.#used = live;
    this.#start = 0;
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.cut();
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** What `recut` makes of an unnumbered body: bodies within a limit, and the records over it. */
export interface Recut {
  readonly batches: { readonly body: Buffer; readonly count: number }[];
  /** Records alone longer than the limit (views into the input body). */
  readonly oversize: Buffer[];
}

/**
 * Cuts a body of whole lines into bodies of at most `maxBytes` each (views, no copy). Only for
 * batches not yet numbered (PROTOCOL.md §3 forbids re-cutting a numbered one): used when a
 * collector's `max_body` turns out smaller than the batches already cut, or for a datagram.
 */
export function recut(body: Buffer, maxBytes: number): Recut {
  const batches: { body: Buffer; count: number }[] = [];
  const oversize: Buffer[] = [];
  let start = 0;
  let end = 0;
  let count = 0;
  const flush = (): void => {
    if (count > 0) batches.push({ body: body.subarray(start, end), count });
    start = end;
    count = 0;
  };
  while (end < body.length) {
    let lf = body.indexOf(LF, end);
    if (lf === -1) lf = body.length - 1;
    const lineEnd = lf + 1;
    if (lineEnd - end > maxBytes) {
      flush();
      oversize.push(body.subarray(end, lineEnd));
      end = lineEnd;
      start = end;
      continue;
    }
    if (count > 0 && lineEnd - start > maxBytes) flush();
    end = lineEnd;
    count += 1;
  }
  flush();
  return { batches, oversize };
}
