/**
 * The relay's spool under `<state>/forward/`: the batches this collector accepted for an
 * upstream collector, kept until the upstream acknowledges them.
 *
 *   append(tick's batches) ─▶ segment file ─[writer saves the marks]─▶ commit() ─▶ per-source queue
 *                     │ tick failed: cutBack()                              │ upstream ACK seq=M
 *                                                                           ▼
 *                        ack(source, M): batches ≤ M forgotten; a segment none of whose entries
 *                        is still held is deleted
 *
 * Its position commits with the marks: an entry is committed exactly when its last record is at
 * or below its source's saved mark, since the writer saves the mark past a batch only in the tick
 * that spooled it. So after a crash, `open` cuts the spool back to the longest run of entries at
 * its end that the saved marks do not cover — the tick the crash interrupted, which its clients
 * resend — just as the checkpoint cuts files back to their saved lengths: nothing lost, nothing
 * doubled. Only committed batches go upstream: the upstream never holds a record this relay could
 * still cut back (its READY `last` could then run past this relay's `next`).
 *
 * Bodies are held in memory as well as on disk (bounded by forward_spool_max_bytes), so the
 * forwarder sends without reading back.
 */

import { mkdir, open, readdir, readFile, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Window } from '../../../shared/sender/window.js';
import { decodeEntry, encodeHeader, lastSeq, type RelayBatch, type SpooledBatch } from './spool-entry.js';

export interface RelaySpoolOptions {
  /** A segment takes no more appends past this size. */
  readonly segmentBytes: number;
  readonly fsync: boolean;
  /** Bytes in flight upstream per source (forward_window). */
  readonly window: number;
}

/** One source's spooled batches, committed, oldest first, and what was ever spooled for it. */
export interface SourceQueue {
  readonly service: string;
  readonly host: string;
  readonly window: Window;
  /** The number after the highest record spooled. */
  end: number;
}

interface Segment {
  /** Entries still held. */
  live: number;
  size: number;
}

/** What the tick under way appended and where it began, until commit or cut-back. */
interface Pending {
  readonly segment: number;
  readonly from: number;
  readonly batches: SpooledBatch[];
  /** True once the write went through and the batches were counted in. */
  written: boolean;
}

const SEGMENT = /^([0-9]{10})\.spool$/;
const segmentName = (id: number): string => `${String(id).padStart(10, '0')}.spool`;

export class RelaySpool {
  readonly dir: string;
  readonly #options: RelaySpoolOptions;
  readonly #sources = new Map<string, SourceQueue>();
  readonly #segments = new Map<number, Segment>();
  #current = 0;
  #pending: Pending | undefined;
  #bytes = 0;
  #closed = false;

  private constructor(dir: string, options: RelaySpoolOptions) {
    this.dir = dir;
    this.#options = options;
  }

  /**
   * Opens (creating) the spool directory and loads it; entries at its end past the saved marks
   * (`mark(source)`) are cut away. Returns the spool and the entries cut.
   */
  static async open(
    dir: string,
    mark: (source: string) => number,
    options: RelaySpoolOptions,
  ): Promise<{ spool: RelaySpool; cut: number }> {
    await mkdir(dir, { recursive: true });
    const spool = new RelaySpool(dir, options);
    const cut = await spool.#load(mark);
    return { spool, cut };
  }

  /** Header and body bytes held (committed and pending). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Records held, committed, not yet acknowledged upstream. */
  get records(): number {
    let records = 0;
    for (const queue of this.#sources.values()) records += queue.window.records;
    return records;
  }

  get segments(): number {
    return this.#segments.size;
  }

  source(id: string): SourceQueue | undefined {
    return this.#sources.get(id);
  }

  sourceIds(): IterableIterator<string> {
    return this.#sources.keys();
  }

  /**
   * Appends one tick's batches to the current segment (a new one when it is full) in one write.
   * They stay pending, not sent, until `commit`. One tick at a time (the writer's order).
   */
  async append(batches: readonly RelayBatch[]): Promise<void> {
    if (this.#closed) throw new Error('the forward spool is closed');
    if (this.#pending !== undefined) throw new Error('the forward spool has a tick pending');
    if (batches.length === 0) return;
    await this.#roll();
    const id = this.#current;
    const segment = this.#segments.get(id)!;
    const pending: Pending = { segment: id, from: segment.size, batches: [], written: false };
    this.#pending = pending;
    const chunks: Buffer[] = [];
    let size = segment.size;
    for (const batch of batches) {
      const header = encodeHeader(batch);
      // A copy: the writer gives the received body back to its pool once the tick is done.
      const body = Buffer.from(batch.body);
      chunks.push(header, body);
      const entry = { ...pick(batch), body, segment: id, size: header.length + body.length };
      pending.batches.push(entry);
      size += entry.size;
    }
    const handle = await open(join(this.dir, segmentName(id)), 'a');
    try {
      await handle.writev(chunks);
      if (this.#options.fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    segment.size = size;
    segment.live += pending.batches.length;
    for (const entry of pending.batches) this.#bytes += entry.size;
    pending.written = true;
  }

  /** The marks covering the pending tick are saved: its batches may go upstream. */
  commit(): SpooledBatch[] {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending === undefined) return [];
    for (const batch of pending.batches) this.#hold(batch);
    return pending.batches;
  }

  /** The pending tick failed: its bytes are cut off the segment, its batches forgotten. */
  async cutBack(): Promise<void> {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending === undefined) return;
    const segment = this.#segments.get(pending.segment);
    if (segment === undefined) return;
    await truncate(join(this.dir, segmentName(pending.segment)), pending.from);
    if (pending.written) {
      segment.live -= pending.batches.length;
      for (const batch of pending.batches) this.#bytes -= batch.size;
    }
    segment.size = pending.from;
  }

  /** The upstream has every record of `source` up to `last`: frees them; returns the records freed. */
  async ack(source: string, last: number): Promise<number> {
    const queue = this.#sources.get(source);
    if (queue === undefined) return 0;
    const emptied = new Set<number>();
    const records = queue.window.ack(last, (batch) => {
      const { segment: id, size } = batch as SpooledBatch;
      this.#bytes -= size;
      const segment = this.#segments.get(id);
      if (segment === undefined) return;
      segment.live -= 1;
      if (segment.live === 0 && id !== this.#current) emptied.add(id);
    });
    for (const id of emptied) await this.#remove(id);
    return records;
  }

  close(): void {
    this.#closed = true;
  }

  #hold(batch: SpooledBatch): void {
    let queue = this.#sources.get(batch.source);
    if (queue === undefined) {
      queue = { service: batch.service, host: batch.host, window: new Window(this.#options.window), end: 0 };
      this.#sources.set(batch.source, queue);
    }
    queue.window.push(batch);
    queue.end = Math.max(queue.end, lastSeq(batch) + 1);
  }

  /** Starts a new segment when there is none or the current one is full (a spent one goes). */
  async #roll(): Promise<void> {
    const current = this.#segments.get(this.#current);
    if (current !== undefined && current.size < this.#options.segmentBytes) return;
    const next = this.#current + 1;
    await (await open(join(this.dir, segmentName(next)), 'a')).close();
    this.#segments.set(next, { live: 0, size: 0 });
    const previous = this.#current;
    this.#current = next;
    if (current !== undefined && current.live === 0) await this.#remove(previous);
  }

  async #remove(id: number): Promise<void> {
    this.#segments.delete(id);
    await unlink(join(this.dir, segmentName(id))).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** Reads every segment, cuts the uncommitted end, and holds the rest. */
  async #load(mark: (source: string) => number): Promise<number> {
    const ids = (await readdir(this.dir))
      .map((name) => SEGMENT.exec(name)?.[1])
      .filter((id): id is string => id !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const entries: SpooledBatch[] = [];
    /** Where the readable entries of each segment end (a torn write past it). */
    const ends = new Map<number, number>();
    for (const id of ids) {
      const data = await readFile(join(this.dir, segmentName(id)));
      let offset = 0;
      for (
        let read = decodeEntry(data, offset, id);
        read !== undefined;
        read = decodeEntry(data, offset, id)
      ) {
        entries.push(read.batch);
        offset = read.next;
      }
      ends.set(id, offset);
    }
    let keep = entries.length;
    while (keep > 0 && lastSeq(entries[keep - 1]!) > mark(entries[keep - 1]!.source)) keep -= 1;
    // Cut back: the segment of the first entry cut ends where that entry began; later ones go.
    const cutAt = entries[keep];
    if (cutAt !== undefined) ends.set(cutAt.segment, offsetOf(entries, keep));
    for (const id of ids) {
      if (cutAt !== undefined && id > cutAt.segment) {
        await this.#remove(id);
        continue;
      }
      const end = ends.get(id)!;
      await truncate(join(this.dir, segmentName(id)), end);
      this.#segments.set(id, { live: 0, size: end });
      this.#current = id;
    }
    for (const batch of entries.slice(0, keep)) {
      this.#segments.get(batch.segment)!.live += 1;
      this.#bytes += batch.size;
      this.#hold(batch);
    }
    // Segments holding nothing go, but the last one, which takes the next appends.
    for (const [id, segment] of [...this.#segments])
      if (segment.live === 0 && id !== this.#current) await this.#remove(id);
    return entries.length - keep;
  }
}

/** Where entry `index` begins in its segment: the sizes of the entries before it there. */
function offsetOf(entries: readonly SpooledBatch[], index: number): number {
  const segment = entries[index]!.segment;
  let offset = 0;
  for (let i = index - 1; i >= 0 && entries[i]!.segment === segment; i--) offset += entries[i]!.size;
  return offset;
}

function pick(batch: RelayBatch): Omit<RelayBatch, 'body'> {
  const { source, service, host, seq, count } = batch;
  return { source, service, host, seq, count };
}
