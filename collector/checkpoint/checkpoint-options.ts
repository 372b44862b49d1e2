/** How a Checkpoint is opened (checkpoint.ts). */

import type { Durability } from '../config/config-types.js';

export const DEFAULT_SOURCE_TTL = 30 * 24 * 3600 * 1000;

export interface CheckpointOptions {
  /** The output directory recover() cuts files in, when not given to it. */
  readonly outputDir?: string;
  /** `fsync`: every save is fdatasync'd (power loss); `write` survives a crash of the process. */
  readonly durability?: Durability;
  /** Marks and output entries idle longer than this (ms) are forgotten. */
  readonly sourceTtl?: number;
  /** ms since the epoch. */
  readonly clock?: () => number;
  /** Journal bytes before it is folded into the snapshot (checkpoint-store.ts). */
  readonly compactAt?: number;
  /** Sources the in-memory UDP loss counter tracks at most. */
  readonly maxUdpSources?: number;
  /** Marks kept at most (max_sources, read at each use: RELOAD may change it). */
  readonly maxSources?: () => number;
  /** Sources whose marks are never evicted: those with a live session. */
  readonly inUse?: (source: string) => boolean;
  /**
   * recover() keeps output files the checkpoint cannot account for as they are, instead of
   * refusing (`--accept-outputs`; checkpoint-recovery.ts).
   */
  readonly acceptOutputs?: boolean;
}
