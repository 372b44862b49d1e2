/**
 * What `logwire collector` checks before it starts: that the output and state directories can
 * be created and written. Found here, the problem is one line naming the flag (exit 1), not a
 * failure deep in start-up or, worse, at the first record.
 */

import { randomBytes } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LogwireError } from '../../shared/errors.js';
import { makeDirs } from '../../shared/make-dirs.js';
import type { CollectorConfig } from '../config/config-types.js';

/** How the message names a directory's setting: the flag, and the config key when a file is used. */
function setting(flag: '--output' | '--state', flagGiven: boolean, configFile: string | undefined): string {
  if (flagGiven || configFile === undefined) return flag;
  return `${flag} (or ${flag.slice(2)} in ${configFile})`;
}

/** Creates `dir` when missing and writes (then removes) a file in it; throws naming `name`. */
async function checkWritable(dir: string, mode: number, name: string): Promise<void> {
  const probe = join(dir, `.logwire-write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await makeDirs(dir, mode);
    const handle = await open(probe, 'wx');
    await handle.close();
    await unlink(probe);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new LogwireError(
      'LW_ERR_CONFIG',
      `${name} ${dir}: cannot create or write this directory: ${reason}`,
      {
        cause: error,
      },
    );
  }
}

export interface DirectoryFlags {
  readonly output?: string;
  readonly state?: string;
  readonly config?: string;
}

/** Both directories, output first (the state directory is inside it by default). */
export async function checkDirectories(config: CollectorConfig, flags: DirectoryFlags): Promise<void> {
  await checkWritable(
    config.output,
    config.dirMode,
    setting('--output', flags.output !== undefined, flags.config),
  );
  await checkWritable(config.state, 0o700, setting('--state', flags.state !== undefined, flags.config));
}
