/**
 * The collector's outputs as the configuration names them: the `[[output]]` tables, or the
 * default ones (config-outputs.ts configuredOutputs): a required file output named `files`
 * from `path` and `format`, and with [jetstream] a JetStream output. Each file output has its own
 * OutputSet (its own open files), so taking back one output's failed part never touches
 * another's files; they share the output directory and the checkpoint. The first file output's
 * rejected records go to _rejected.log, each other's to _rejected.<name>.log.
 */

import type { Checkpoint } from './checkpoint/checkpoint.js';
import { configuredOutputs } from './config/config-outputs.js';
import type { CollectorConfig } from './config/config-types.js';
import { COLLECTOR_DEFAULTS } from './config/config-types.js';
import { FileOutput } from './outputs/file-output.js';
import { type JetStreamCounters, JetStreamOutput } from './outputs/jetstream/jetstream-output.js';
import type { Output } from './outputs/output.js';
import type { OutputSet } from './outputs/output-set.js';
import { PathTemplate } from './outputs/path-template.js';
import { REJECTED_PATH } from './outputs/rejected-file.js';
import { OptionalLane } from './writer/optional-lane.js';
import { OutputProgress } from './writer/output-progress.js';
import { RouteTable } from './writer/route-rules.js';
import { type OutputEntry, Router } from './writer/router.js';

/** What opening the outputs needs besides the configuration. */
export interface OutputDeps {
  readonly counters: JetStreamCounters;
  readonly onError: (error: unknown) => void;
}

/** The outputs, each file output with its entry, for RELOAD, LOG, STATUS and the stop. */
export interface CollectorOutputs {
  readonly router: Router;
  readonly files: readonly FileOutput[];
  reopen(): Promise<void>;
  close(): Promise<void>;
  /** STATUS `output_<name>_…` fields. */
  report(): Record<string, string | number>;
}

export async function openOutputs(
  config: CollectorConfig,
  checkpoint: Checkpoint,
  openSet: () => Promise<OutputSet>,
  deps: OutputDeps,
): Promise<CollectorOutputs> {
  const entries: OutputEntry[] = [];
  const files: FileOutput[] = [];
  const opened: Output[] = [];
  try {
    for (const out of configuredOutputs(config)) {
      const progress = new OutputProgress(out.name, out.required);
      const lane = out.required ? undefined : new OptionalLane(progress, out.backlog);
      const common = { name: out.name, progress, ...(lane ? { lane } : {}) };
      if (out.type === 'jetstream') {
        // A batch goes whole: its path is never used, the template only has to expand.
        const output = await JetStreamOutput.open(config.jetstream!, deps.counters);
        opened.push(output);
        const template = PathTemplate.parse(COLLECTOR_DEFAULTS.path);
        entries.push({ ...common, output, template, rejectedPath: REJECTED_PATH });
        continue;
      }
      const rejectedPath = files.length === 0 ? REJECTED_PATH : `_rejected.${out.name}.log`;
      const settings = { format: out.format, validate: config.validate, durability: config.durability };
      const output = new FileOutput(await openSet(), checkpoint, settings, rejectedPath);
      files.push(output);
      opened.push(output);
      entries.push({ ...common, output, template: PathTemplate.parse(out.path), rejectedPath });
    }
  } catch (error) {
    await Promise.all(opened.map((output) => output.close()));
    throw error;
  }
  const table = new RouteTable(
    config.routes,
    entries.map((entry) => entry.name),
  );
  const router = new Router(entries, table, deps.onError);
  return {
    router,
    files,
    reopen: async () => {
      await Promise.all(files.map((file) => file.reopen()));
    },
    close: async () => {
      await Promise.all(opened.map((output) => output.close()));
    },
    report: () => Object.assign({}, ...entries.map((entry) => entry.progress.report())),
  };
}
