#!/usr/bin/env node
/**
 * The `logwire` command: assembles the subcommands (STYLE.md: entry points only assemble).
 * Usage errors exit 1 (INTERFACES.md), help and --version exit 0.
 */

import { Command, CommanderError } from 'commander';
import { addCheckConfigCommand } from './check-config-command.js';
import { addCollectorCommand } from './collector-command.js';
import { addShipCommand } from './ship-command.js';
import { addSignalCommand } from './signal-command.js';
import { addStatusCommand } from './status-command.js';
import { addTopCommand } from './top-command.js';
import { packageVersion } from './version.js';

const program = new Command('logwire')
  .description('a pino transport and log collector that never lose a record')
  .version(packageVersion())
  // Subcommands made by .command() inherit this: commander throws instead of exiting.
  .exitOverride();
addCollectorCommand(program);
addSignalCommand(program);
addStatusCommand(program);
addTopCommand(program);
addCheckConfigCommand(program);
addShipCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) {
    process.stderr.write(`logwire: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  // Help and --version are exit code 0; every usage error is 1, whatever commander's own code.
  process.exit(err.exitCode === 0 ? 0 : 1);
}
