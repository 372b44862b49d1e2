/**
 * Opens a forward output over its spool directory (`<state>/forward` for the first forward
 * output, `<state>/forward.<name>` for each other): the spool loaded and cut back to the saved marks.
 */

import { join } from 'node:path';
import type { CollectorConfig, CollectorLog, ForwardOutputConfig } from '../../config/config-types.js';
import { ForwardOutput } from './forward-output.js';
import { type RelayMarks, RelayNumbering } from './relay-numbering.js';
import { RelaySpool } from './relay-spool.js';

/** A segment file takes no more appends past this size. */
const SEGMENT_BYTES = 8 * 1024 * 1024;

/** Heartbeat spans: a silent upstream is noticed within seconds while acks are due. */
const HEARTBEAT = { idle: 10_000, timeout: 10_000, awaiting: { idle: 3_000, timeout: 3_000 } };

export interface NamedForward {
  readonly name: string;
  readonly output: ForwardOutput;
}

export async function openForward(
  config: CollectorConfig,
  forward: ForwardOutputConfig,
  first: boolean,
  marks: RelayMarks,
  log: CollectorLog,
): Promise<ForwardOutput> {
  const dir = join(config.state, first ? 'forward' : `forward.${forward.name}`);
  const { spool, cut } = await RelaySpool.open(dir, (source) => marks.mark(source), {
    segmentBytes: SEGMENT_BYTES,
    fsync: config.durability === 'fsync',
    window: forward.window,
  });
  if (cut > 0)
    log.warn('cut unacknowledged batches off the forward spool after a crash', {
      output: forward.name,
      batches: cut,
    });
  const numbering = new RelayNumbering(await RelayNumbering.loadId(dir), marks);
  return new ForwardOutput(spool, numbering, {
    addresses: forward.addresses,
    registerTimeout: config.registerTimeout,
    ...(forward.token === undefined ? {} : { token: forward.token }),
    client: { heartbeat: HEARTBEAT },
    spoolMaxBytes: forward.spoolMaxBytes,
    warn: (msg, fields) => log.warn(msg, fields),
  });
}
