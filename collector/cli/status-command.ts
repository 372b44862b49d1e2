/**
 * `logwire status [--host ADDRESS] [--json] [--timeout MS]`: one STATUS, printed as tables (or
 * JSON for scripts). Exit codes as `logwire signal`: 0 answered, 1 usage, 2 refused, 3 no answer.
 */

import type { Command } from 'commander';
import { DEFAULT_STATUS_HOST, fetchStatus } from './status-fetch.js';
import { renderStatus, statusJson } from './status-view.js';

export interface StatusOptions {
  readonly host?: string;
  readonly json?: boolean;
  readonly timeout?: string;
}

export interface StatusDeps {
  readonly stdout?: { write(text: string): unknown };
  readonly stderr?: { write(text: string): unknown };
}

export async function runStatus(options: StatusOptions, deps: StatusDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  const host = options.host ?? DEFAULT_STATUS_HOST;
  const outcome = await fetchStatus(host, options.timeout);
  if (outcome.kind === 'failed') {
    stderr.write(`logwire status: ${outcome.reason}\n`);
    return outcome.exitCode;
  }
  stdout.write(options.json ? statusJson(host, outcome.report) : renderStatus(host, outcome.report));
  return 0;
}

export function addStatusCommand(program: Command): Command {
  return program
    .command('status')
    .description("print a collector's state, live sessions, sources and counters")
    .option('--host <address>', `collector address (default ${DEFAULT_STATUS_HOST})`)
    .option('--json', 'print JSON instead of tables')
    .option('--timeout <ms>', 'how long to wait for the connection and the reply (default 5000)')
    .action(async (opts: StatusOptions) => {
      process.exitCode = await runStatus(opts);
      setTimeout(() => process.exit(process.exitCode), 1000).unref();
    });
}
