/**
 * What the collector opens before it listens: the output directory, the checkpoint (locked,
 * recovered: unacknowledged tails cut) and the outputs (open-outputs.ts), every part of it on the one clock.
 */

import { makeDirs } from '../shared/make-dirs.js';
import { Checkpoint } from './checkpoint/checkpoint.js';
import { logRecovery } from './checkpoint/recovery-log.js';
import type { CollectorClock } from './clock.js';
import type { CollectorConfig, CollectorLog } from './config/config-types.js';
import type { CollectorCounters } from './counters.js';
import { type CollectorOutputs, openOutputs } from './open-outputs.js';
import type { FileOutputSettings } from './outputs/file-output.js';
import type { WritevFn } from './outputs/output-file.js';
import { OutputSet, type SweepTimers } from './outputs/output-set.js';

export interface StartOptions {
  readonly log: CollectorLog;
  /** Re-reads the configuration for RELOAD. Without it RELOAD is refused. */
  readonly reload?: () => Promise<CollectorConfig>;
  /** Test seam: how output files are written (tests stall it to show backpressure). */
  readonly writev?: WritevFn;
  /** Keep output files the checkpoint cannot account for, instead of refusing to start. */
  readonly acceptOutputs?: boolean;
}

/** The parts the state depends on. */
export interface StateDeps {
  /** A live session's mark is never evicted: its retransmissions are the likeliest. */
  readonly sessions: { isLive(source: string): boolean };
  readonly counters: Pick<
    CollectorCounters,
    'outputsDeleted' | 'outputsMoved' | 'jetstreamDuplicates' | 'jetstreamRetries'
  >;
  readonly clock: CollectorClock;
  /** max_sources, live (RELOAD). */
  readonly maxSources: () => number;
  readonly onError: (error: unknown) => void;
}

/** The file output's live keys (format, validate) and its durability. */
export function fileOutputSettings(config: CollectorConfig): FileOutputSettings {
  return { format: config.format, validate: config.validate, durability: config.durability };
}

/** The output set's idle sweep, on the collector's clock. */
export function sweepTimers(clock: CollectorClock): SweepTimers {
  return {
    setInterval(fn, ms) {
      const timers = { handle: clock.setTimeout(tick, ms) };
      function tick(): void {
        timers.handle = clock.setTimeout(tick, ms);
        fn();
      }
      return timers;
    },
    clearInterval(timers) {
      clock.clearTimeout((timers as { handle: object }).handle);
    },
  };
}

export async function openState(
  config: CollectorConfig,
  options: StartOptions,
  deps: StateDeps,
): Promise<{ checkpoint: Checkpoint; outputs: CollectorOutputs }> {
  const { log } = options;
  const { clock, counters } = deps;
  await makeDirs(config.output, config.dirMode);
  const checkpoint = await Checkpoint.open(config.state, {
    durability: config.durability,
    sourceTtl: config.sourceTtl,
    maxSources: deps.maxSources,
    inUse: (source) => deps.sessions.isLive(source),
    clock: () => clock.date(),
    ...(options.acceptOutputs === true ? { acceptOutputs: true } : {}),
  });
  try {
    const recovery = await checkpoint.recover(config.output);
    logRecovery(log, recovery);
    const openSet = (): Promise<OutputSet> =>
      OutputSet.open({
        dir: config.output,
        fileMode: config.fileMode,
        dirMode: config.dirMode,
        maxOpenFiles: config.maxOpenFiles,
        fileIdleClose: config.fileIdleClose,
        durability: config.durability,
        exclude: [config.state],
        // A new file's identity is saved before its first byte, so recovery can cut it (checkpoint.ts).
        onOpen: (file) => checkpoint.noteOpened(file),
        onVanished: (path, whereabouts) => {
          if (whereabouts === 'deleted') {
            counters.outputsDeleted += 1;
            log.warn('output file deleted while open: reopened it, and wrote the current batch again there', {
              path,
            });
          } else {
            counters.outputsMoved += 1;
            log.info('output file moved away while open: writing to a new file at its path', { path });
          }
        },
        clock: () => clock.date(),
        timers: sweepTimers(clock),
        ...(options.writev === undefined ? {} : { writev: options.writev }),
      });
    const outputs = await openOutputs(config, checkpoint, openSet, {
      ...{ counters: deps.counters, onError: deps.onError, log },
    });
    return { checkpoint, outputs };
  } catch (error) {
    await checkpoint.close();
    throw error;
  }
}
