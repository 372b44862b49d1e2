import { readdir, readFile, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ignoreMissing } from '../durable-file.js';
import { LogwireError } from '../errors.js';
import { batch, lastSeq } from './batch.js';
import { BatchQueue } from './batch-queue.js';
import { SpoolMeta } from './spool-meta.js';
import { parseSegmentName, scanSegment } from './spool-segment.js';

/** A segment file: its path, the last record number in it, its size in bytes. */
export interface Segment {
  readonly path: string;
  last: number;
  size: number;
}

/** What opening a spool found. */
export interface SpoolRecovery {
  /** True when the spool was created by this open. */
  readonly created: boolean;
  /** Unacknowledged batches read back, and the records in them. */
  readonly batches: number;
  readonly records: number;
  /** Bytes cut from torn or damaged segment tails (a crash in the middle of a write). */
  readonly tornBytes: number;
}

export interface LoadedSpool {
  readonly meta: SpoolMeta;
  readonly held: BatchQueue;
  readonly segments: Segment[];
  readonly recovery: SpoolRecovery;
  /** The last record number in the segments (0 when none). */
  readonly last: number;
}

/**
 * Reads a locked spool directory back: its meta (created with `newSource()` when the directory
 * is new), then its segments in number order. Entries past a torn or damaged point are cut from
 * the file; segments left empty or all acknowledged are deleted.
 */
export async function loadSpool(dir: string, fsync: boolean, newSource: () => string): Promise<LoadedSpool> {
  const names = await readdir(dir);
  const found = names
    .map((name) => ({ name, first: parseSegmentName(name) }))
    .filter((entry): entry is { name: string; first: number } => entry.first !== undefined)
    .sort((a, b) => a.first - b.first);
  let meta = await SpoolMeta.read(dir, fsync);
  const created = meta === undefined;
  if (meta === undefined) {
    if (found.length > 0) {
      throw new LogwireError(
        'LW_ERR_SPOOL',
        `spool ${dir} has segments but no meta.json, so their source id and numbering are lost; move it away`,
      );
    }
    meta = SpoolMeta.create(dir, newSource(), fsync);
    await meta.flush();
  }

  const { acked } = meta.state;
  const held = new BatchQueue();
  const segments: Segment[] = [];
  let last = 0;
  let records = 0;
  let tornBytes = 0;
  for (const { name } of found) {
    const path = join(dir, name);
    const data = await readFile(path);
    const scan = scanSegment(data, last);
    if (scan.validBytes < data.length) {
      tornBytes += data.length - scan.validBytes;
      await truncate(path, scan.validBytes);
    }
    const tail = scan.batches.at(-1);
    if (tail === undefined || lastSeq(tail) <= acked) {
      await unlink(path).catch(ignoreMissing);
      if (tail !== undefined) last = lastSeq(tail);
      continue;
    }
    for (const entry of scan.batches) {
      if (lastSeq(entry) <= acked) continue;
      // A copy, so a held batch does not keep its whole segment file in memory.
      held.push(batch(entry.seq, entry.count, Buffer.from(entry.body)));
      records += entry.count;
    }
    last = lastSeq(tail);
    segments.push({ path, last, size: scan.validBytes });
  }
  return {
    meta,
    held,
    segments,
    last,
    recovery: { created, batches: held.length, records, tornBytes },
  };
}
