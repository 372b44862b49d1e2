/**
 * The collector's outputs as the configuration names them: the `[[output]]` tables, or the
 * default ones (config-outputs.ts buildOutputs): a required file output named `files` from
 * `path` and `format`, an output named `forward` and one named `jetstream`. Each file output has its own
 * OutputSet (its own open files), so taking back one output's failed part never touches
 * another's files; they share the output directory and the checkpoint. The first file output's
 * rejected records go to _rejected.log, each other's to _rejected.<name>.log. A forward output
 * relays to upstream collectors through its spool: the first one's is `<state>/forward`, each
 * other's `<state>/forward.<name>`.
 */

import type { Checkpoint } from './checkpoint/checkpoint.js';
import { configuredOutputs } from './config/config-outputs.js';
import type { CollectorConfig, CollectorLog, OutputConfig } from './config/config-types.js';
import { COLLECTOR_DEFAULTS } from './config/config-types.js';
import { FileOutput } from './outputs/file-output.js';
import { type NamedForward, openForward } from './outputs/forward/open-forward.js';
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
  readonly log: CollectorLog;
}

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

export async function openOutputs(
  config: CollectorConfig,
  checkpoint: Checkpoint,
  openSet: () => Promise<OutputSet>,
  deps: OutputDeps,
): Promise<CollectorOutputs> {
  const entries: OutputEntry[] = [];
  const opened: Opened = { files: [], forwards: [], all: [] };
  const closeAll = async (): Promise<void> => {
    await Promise.all(opened.all.map((output) => output.close()));
  };
  try {
    for (const out of configuredOutputs(config)) {
      const progress = new OutputProgress(out.name, out.required);
      const lane = out.required ? undefined : new OptionalLane(progress, out.backlog);
      const [output, template, rejectedPath] = await openOutput(out, config, opened, {
        ...{ checkpoint, openSet, deps },
      });
      entries.push({ name: out.name, output, template, rejectedPath, progress, ...(lane ? { lane } : {}) });
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  const { files, forwards } = opened;
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

/** The outputs opened so far, so a failure part way closes them. */
interface Opened {
  readonly files: FileOutput[];
  readonly forwards: NamedForward[];
  readonly all: Output[];
}

/**
 * Opens one output, with the path template the router expands for it and where its rejected
 * records go: _rejected.log for the first file output, _rejected.<name>.log for each other.
 */
async function openOutput(
  out: OutputConfig,
  config: CollectorConfig,
  opened: Opened,
  using: { checkpoint: Checkpoint; openSet: () => Promise<OutputSet>; deps: OutputDeps },
): Promise<[Output, PathTemplate, string]> {
  if (out.type === 'forward') {
    const first = opened.forwards.length === 0;
    const forward = await openForward(config, out, first, using.checkpoint, using.deps.log);
    opened.forwards.push({ name: out.name, output: forward });
    opened.all.push(forward);
    // Paths mean nothing upstream: a constant template, which always expands.
    return [forward, PathTemplate.parse(out.name), REJECTED_PATH];
  }
  if (out.type === 'jetstream') {
    const output = await JetStreamOutput.open(config.jetstream!, using.deps.counters);
    opened.all.push(output);
    // A batch goes whole: its path is never used, the template only has to expand.
    return [output, PathTemplate.parse(COLLECTOR_DEFAULTS.path), REJECTED_PATH];
  }
  const rejectedPath = opened.files.length === 0 ? REJECTED_PATH : `_rejected.${out.name}.log`;
  const settings = { format: out.format, validate: config.validate, durability: config.durability };
  const file = new FileOutput(await using.openSet(), using.checkpoint, settings, rejectedPath);
  opened.files.push(file);
  opened.all.push(file);
  return [file, PathTemplate.parse(out.path), rejectedPath];
}
