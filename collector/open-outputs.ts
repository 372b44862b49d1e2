/**
 * The collector's outputs as the configuration names them: the `[[output]]` tables, or one
 * required file output named `files` from `path` and `format`. Each file output has its own
 * OutputSet (its own open files), so taking back one output's failed part never touches
 * another's files; they share the output directory and the checkpoint. The first file output's
 * rejected records go to _rejected.log, each other's to _rejected.<name>.log.
 */

import type { Checkpoint } from './checkpoint/checkpoint.js';
import type { CollectorConfig, OutputConfig } from './config/config-types.js';
import { COLLECTOR_DEFAULTS } from './config/config-types.js';
import { FileOutput } from './outputs/file-output.js';
import type { OutputSet } from './outputs/output-set.js';
import { PathTemplate } from './outputs/path-template.js';
import { REJECTED_PATH } from './outputs/rejected-file.js';
import { OptionalLane } from './writer/optional-lane.js';
import { OutputProgress } from './writer/output-progress.js';
import { RouteTable } from './writer/route-rules.js';
import { type OutputEntry, Router } from './writer/router.js';

/** The outputs, each file output with its entry, for RELOAD, LOG, STATUS and the stop. */
export interface CollectorOutputs {
  readonly router: Router;
  readonly files: readonly FileOutput[];
  reopen(): Promise<void>;
  close(): Promise<void>;
  /** STATUS `output_<name>_…` fields. */
  report(): Record<string, string | number>;
}

/** The configured outputs, or the default one. */
export function outputConfigs(config: CollectorConfig): readonly OutputConfig[] {
  if (config.outputs.length > 0) return config.outputs;
  const name = COLLECTOR_DEFAULTS.defaultOutputName;
  return [{ type: 'file', name, path: config.path, format: config.format, required: true, backlog: 0 }];
}

export async function openOutputs(
  config: CollectorConfig,
  checkpoint: Checkpoint,
  openSet: () => Promise<OutputSet>,
  onError: (error: unknown) => void,
): Promise<CollectorOutputs> {
  const entries: OutputEntry[] = [];
  const files: FileOutput[] = [];
  try {
    for (const [i, out] of outputConfigs(config).entries()) {
      const rejectedPath = i === 0 ? REJECTED_PATH : `_rejected.${out.name}.log`;
      const settings = { format: out.format, validate: config.validate, durability: config.durability };
      const output = new FileOutput(await openSet(), checkpoint, settings, rejectedPath);
      files.push(output);
      const progress = new OutputProgress(out.name, out.required);
      const template = PathTemplate.parse(out.path);
      const lane = out.required ? undefined : new OptionalLane(progress, out.backlog);
      entries.push({ name: out.name, output, template, rejectedPath, progress, ...(lane ? { lane } : {}) });
    }
  } catch (error) {
    await Promise.all(files.map((file) => file.close()));
    throw error;
  }
  const table = new RouteTable(
    config.routes,
    entries.map((entry) => entry.name),
  );
  const router = new Router(entries, table, onError);
  return {
    router,
    files,
    reopen: async () => {
      await Promise.all(files.map((file) => file.reopen()));
    },
    close: async () => {
      await Promise.all(files.map((file) => file.close()));
    },
    report: () => Object.assign({}, ...entries.map((entry) => entry.progress.report())),
  };
}
