import { LogwireError } from '../errors.js';
import { PidLock } from '../pid-lock.js';
import { spoolError } from './spool-fs.js';

export { LOCK_FILE } from '../pid-lock.js';

/** The exclusive lock on a spool directory (PROTOCOL.md §4). */
export type SpoolLock = PidLock;

export const SpoolLock = {
  /**
   * Takes the lock on `dir`. Fails with LW_ERR_SPOOL when a live process (this one included)
   * holds it: the caller then runs without the spool, under a fresh source id.
   */
  acquire(dir: string): Promise<PidLock> {
    return PidLock.acquire(dir, {
      held: (pid, ours, path) =>
        new LogwireError(
          'LW_ERR_SPOOL',
          `spool ${dir} is held by ${ours ? 'this process' : 'another process'} (pid ${pid}, ${path}); ` +
            'run without it or give each instance its own spool directory',
        ),
      failed: (error) => spoolError(`lock spool ${dir}`, error),
    });
  },
};
