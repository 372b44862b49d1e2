/**
 * `logwire check-config FILE`: loads FILE as `logwire collector --config FILE` would (the same
 * loader and checks, TLS files read, nothing bound or written) and prints a one-line summary.
 * Exit 0 valid; 1 with the message naming the file, key and reason. The environment and flags,
 * which override the file at start-up, are left out: the file itself is checked.
 */

import type { Command } from 'commander';
import { formatAddress } from '../../shared/protocol/address.js';
import { loadConfig } from '../config/config.js';
import { configuredOutputs } from '../config/config-outputs.js';
import type { CollectorConfig } from '../config/config-types.js';

export interface CheckConfigDeps {
  readonly stdout?: { write(text: string): unknown };
  readonly stderr?: { write(text: string): unknown };
  readonly cwd?: string;
}

export async function runCheckConfig(file: string, deps: CheckConfigDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  let config: CollectorConfig;
  try {
    config = await loadConfig({ file, flags: {} }, deps.cwd ?? process.cwd());
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    // Every loader message about the file already begins with its name.
    stderr.write(`logwire check-config: ${text.startsWith(file) ? text : `${file}: ${text}`}\n`);
    return 1;
  }
  stdout.write(`${summary(file, config)}\n`);
  return 0;
}

export function summary(file: string, config: CollectorConfig): string {
  const listeners = config.listeners.map((l) => formatAddress(l.address)).join(',');
  // With [[output]] tables or JetStream, each output has its own path and format: name them instead.
  const outputs = configuredOutputs(config);
  const writing =
    outputs.length === 1 && outputs[0]!.type === 'file' && config.outputs.length === 0
      ? `path=${config.path} format=${config.format}`
      : `outputs=${outputs.map((o) => o.name).join(',')} routes=${config.routes.length}`;
  const reading = config.fromJetstream === undefined ? '' : ` from_jetstream=${config.fromJetstream.stream}`;
  return (
    `${file}: valid: listen=${listeners} output=${config.output} state=${config.state} ` +
    `${writing} durability=${config.durability}${reading}`
  );
}

export function addCheckConfigCommand(program: Command): Command {
  return program
    .command('check-config')
    .description('check a collector configuration file without starting the collector')
    .argument('<file>', 'the TOML file')
    .action(async (file: string) => {
      process.exitCode = await runCheckConfig(file);
    });
}
