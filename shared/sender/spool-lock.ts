import { LogwireError } from '../errors.js';
import { SocketLock } from '../socket-lock.js';
import { spoolError } from './spool-fs.js';

export { LOCK_FILE } from '../socket-lock.js';

/** The exclusive lock on a spool directory (PROTOCOL.md §4). */
export type SpoolLock = SocketLock;

export const SpoolLock = {
  /**
   * Takes the lock on `dir`. Fails with LW_ERR_SPOOL while a live process (this one included)
   * holds it: the caller then runs without the spool, under a fresh source id.
   */
  acquire(dir: string): Promise<SocketLock> {
    return SocketLock.acquire(dir, {
      held: (holder, path) => {
        const who = holder.ours
          ? 'this process'
          : holder.pid === undefined
            ? 'another live process'
            : `another process (pid ${holder.pid} on host ${holder.host ?? '?'})`;
        return new LogwireError(
          'LW_ERR_SPOOL',
          `spool ${dir} is held by ${who}, lock ${path}; ` +
            'run without it or give each instance its own spool directory',
        );
      },
      failed: (error) => spoolError(`lock spool ${dir}`, error),
    });
  },
};
