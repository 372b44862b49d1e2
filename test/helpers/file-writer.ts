/** A Writer over one file output routed by a path template, as the collector wires it. */

import type { Checkpoint } from '../../collector/checkpoint/checkpoint.js';
import type { Durability, OutputFormat, Validation } from '../../collector/config/config-types.js';
import { FileOutput } from '../../collector/outputs/file-output.js';
import type { OutputSet } from '../../collector/outputs/output-set.js';
import type { PathTemplate } from '../../collector/outputs/path-template.js';
import { Router } from '../../collector/writer/router.js';
import { Writer, type WriterDeps } from '../../collector/writer/writer.js';

export interface FileWriterSettings {
  readonly template: PathTemplate;
  readonly format: OutputFormat;
  readonly validate: Validation;
  readonly durability: Durability;
}

export function fileWriter(
  settings: FileWriterSettings,
  deps: Omit<WriterDeps, 'router' | 'checkpoint'> & { outputs: OutputSet; checkpoint: Checkpoint },
): Writer {
  const { outputs, ...rest } = deps;
  const output = new FileOutput(outputs, deps.checkpoint, settings);
  return new Writer({ ...rest, router: Router.single(settings.template, output, deps.onError) });
}
