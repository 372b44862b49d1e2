/**
 * Routing by level: reads each record's level (record-level.ts) and asks the route table which
 * outputs it goes to. When every record of the batch goes to the same outputs (the usual case:
 * a batch of one service, all info) the batch goes whole, no copy; otherwise each output gets a
 * copy of its records.
 */

import { DEFAULT_LEVEL, readLevel } from './record-level.js';
import type { RouteTable } from './route-rules.js';

const NEWLINE = 0x0a;

/** The records one output takes out of a split batch. */
export interface SplitPart {
  readonly body: Buffer;
  readonly count: number;
}

/** The whole batch to the outputs of `mask`, or a part per output index. */
export type LevelSplit = { readonly mask: number } | { readonly parts: Map<number, SplitPart> };

/**
 * Splits the records of `body` after the first `skip` (retransmissions, not written). A body
 * that is not `count` newline-ended records goes whole, as info: its output rejects it.
 */
export function splitByLevel(
  body: Buffer,
  count: number,
  skip: number,
  service: string,
  table: RouteTable,
): LevelSplit {
  const starts: number[] = [];
  const masks: number[] = [];
  let start = 0;
  let same = true;
  for (let n = 0; n < count; n += 1) {
    const end = body.indexOf(NEWLINE, start);
    if (end === -1) return { mask: table.targets(service, DEFAULT_LEVEL) };
    if (n >= skip) {
      const mask = table.targets(service, readLevel(body, start, end) ?? DEFAULT_LEVEL);
      if (masks.length > 0 && mask !== masks[0]) same = false;
      starts.push(start);
      masks.push(mask);
    }
    start = end + 1;
  }
  if (start !== body.length) return { mask: table.targets(service, DEFAULT_LEVEL) };
  if (same) return { mask: masks[0] ?? table.targets(service, DEFAULT_LEVEL) };
  starts.push(start);
  const chunks = new Map<number, Buffer[]>();
  for (let r = 0; r < masks.length; r += 1) {
    const line = body.subarray(starts[r]!, starts[r + 1]!);
    for (let bits = masks[r]!; bits !== 0; bits &= bits - 1) {
      const index = 31 - Math.clz32(bits & -bits);
      const list = chunks.get(index);
      if (list === undefined) chunks.set(index, [line]);
      else list.push(line);
    }
  }
  const parts = new Map<number, SplitPart>();
  for (const [index, lines] of chunks) parts.set(index, { body: Buffer.concat(lines), count: lines.length });
  return { parts };
}
