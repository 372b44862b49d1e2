/**
 * `logwire ship [--address ADDRESS]… [--service NAME] [--spool DIR] [--timeout MS] [FILE|DIR|GLOB]…`:
 * records from a pipe (no file: stdin until EOF) or from followed files, delivered through the
 * in-process appender. Exit codes: 0 everything acknowledged (or, following files, stopped with
 * every read line in the spool); 1 usage error, or records not delivered (counted on stderr).
 */

import type { Command } from 'commander';
import { LogwireError } from '../../shared/errors.js';
import { parseAddressList } from '../../shared/protocol/address.js';
import { shipFiles } from '../../ship/file-ship.js';
import { DEFAULT_TIMEOUT, type ShipSettings } from '../../ship/ship-appender.js';
import { shipStdin } from '../../ship/stdin-ship.js';
import { collect } from './repeatable.js';

const DEFAULT_ADDRESS = 'tcp/127.0.0.1:4043';

interface ShipFlags {
  readonly address?: string[];
  readonly service?: string;
  readonly spool?: string;
  readonly timeout?: string;
}

function stderr(line: string): void {
  process.stderr.write(line);
}

/** The settings, or a usage error (exit 1) naming the flag. */
export function shipSettings(flags: ShipFlags, files: readonly string[]): ShipSettings {
  const addresses =
    flags.address !== undefined && flags.address.length > 0 ? flags.address : [DEFAULT_ADDRESS];
  for (const address of parseAddressList(addresses)) {
    if (address.scheme === 'http' || address.scheme === 'udp') {
      throw new LogwireError(
        'LW_ERR_BAD_ADDRESS',
        `--address ${address.scheme}/…: ship delivers over a session (tcp, tls, unix, ws, wss) or ndjson`,
      );
    }
  }
  const timeout = flags.timeout === undefined ? DEFAULT_TIMEOUT : Number(flags.timeout);
  if (!Number.isSafeInteger(timeout) || timeout < 0) {
    throw new LogwireError(
      'LW_ERR_BAD_OPTION',
      `--timeout must be a whole number of ms, not ${flags.timeout}`,
    );
  }
  if (files.length > 0 && flags.spool === undefined) {
    throw new LogwireError(
      'LW_ERR_BAD_OPTION',
      '--spool DIR is required when following files: the read positions are kept with the spool, ' +
        'so that a restart neither loses nor repeats a line',
    );
  }
  return { addresses, service: flags.service, spoolDir: flags.spool, timeout };
}

export async function runShip(flags: ShipFlags, files: readonly string[]): Promise<number> {
  let settings: ShipSettings;
  try {
    settings = shipSettings(flags, files);
  } catch (error) {
    stderr(`logwire ship: ${(error as Error).message}\n`);
    return 1;
  }
  const stop = new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  try {
    if (files.length === 0) return await shipStdin(settings, { input: process.stdin, stderr, stop });
    return await shipFiles(settings, files, { stderr, stop });
  } catch (error) {
    stderr(`logwire ship: ${(error as Error).message}\n`);
    return 1;
  }
}

export function addShipCommand(program: Command): Command {
  return program
    .command('ship')
    .description('ship NDJSON lines from stdin, or follow files, to a collector')
    .argument('[files...]', 'files, directories (followed recursively) or glob patterns (*, **)')
    .option(
      '--address <address>',
      `collector address; repeat for failover (default ${DEFAULT_ADDRESS})`,
      collect,
    )
    .option('--service <name>', 'service name (default: the first record\'s "name", else ship)')
    .option('--spool <dir>', 'directory for the spool and the read positions (required with files)')
    .option('--timeout <ms>', `how long the end waits for acknowledgements (default ${DEFAULT_TIMEOUT})`)
    .action(async (files: string[], opts: ShipFlags) => {
      const code = await runShip(opts, files);
      process.exit(code);
    });
}
