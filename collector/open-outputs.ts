/**
 * The collector's outputs as the configuration names them: the `[[output]]` tables, or one
 * required file output named `files` from `path` and `format`. Each file output has its own
 * OutputSet (its own open files), so taking back one output's failed part never touches
 * another's files; they share the output directory and the checkpoint. The first file output's
 * rejected records go to _rejected.log, each other's to _rejected.<name>.log. A forward output
 * relays to upstream collectors through its spool: the first one's is `<state>/forward`, each
 * other's `<state>/forward.<name>`.
 */

import type { Checkpoint } from './checkpoint/checkpoint.js';
import type { CollectorConfig, CollectorLog, OutputConfig } from './config/config-types.js';
import { COLLECTOR_DEFAULTS } from './config/config-types.js';
import { FileOutput } from './outputs/file-output.js';
import type { ForwardOutput } from './outputs/forward/forward-output.js';
import { type NamedForward, openForward } from './outputs/forward/open-forward.js';
import type { Output } from './outputs/output.js';
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
  /** The forward outputs, by name, in table order. */
  readonly forwards: readonly NamedForward[];
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
  deps: { onError: (error: unknown) => void; log: CollectorLog },
): Promise<CollectorOutputs> {
  const entries: OutputEntry[] = [];
  const files: FileOutput[] = [];
  const forwards: NamedForward[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all([...files, ...forwards.map((f) => f.output)].map((output) => output.close()));
  };
  try {
    for (const out of outputConfigs(config)) {
      const rejectedPath = files.length === 0 ? REJECTED_PATH : `_rejected.${out.name}.log`;
      let output: Output;
      let template: PathTemplate;
      if (out.type === 'forward') {
        const forward: ForwardOutput = await openForward(
          config,
          out,
          forwards.length === 0,
          checkpoint,
          deps.log,
        );
        forwards.push({ name: out.name, output: forward });
        // Paths mean nothing upstream: a constant template, which always expands.
        [output, template] = [forward, PathTemplate.parse(out.name)];
      } else {
        const settings = { format: out.format, validate: config.validate, durability: config.durability };
        const file = new FileOutput(await openSet(), checkpoint, settings, rejectedPath);
        files.push(file);
        [output, template] = [file, PathTemplate.parse(out.path)];
      }
      const progress = new OutputProgress(out.name, out.required);
      const lane = out.required ? undefined : new OptionalLane(progress, out.backlog);
      entries.push({ name: out.name, output, template, rejectedPath, progress, ...(lane ? { lane } : {}) });
    }
  } catch (error) {
    await closeAll();
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
    forwards,
    reopen: async () => {
      await Promise.all(files.map((file) => file.reopen()));
    },
    close: closeAll,
    report: () =>
      Object.assign(
        {},
        ...entries.map((entry) => entry.progress.report()),
        ...forwards.map((forward, i) =>
          forward.output.status(i === 0 ? 'forward_' : `forward_${forward.name}_`),
        ),
      ),
  };
}
