import { LogwireError } from '../shared/errors.js';
import { PidLock } from '../shared/pid-lock.js';

export { LOCK_FILE } from '../shared/pid-lock.js';

export interface StateLockOptions {
  /** Test seam: whether a pid is a live process (default: signal 0). */
  readonly isAlive?: (pid: number) => boolean;
}

/** The state directory's lock, so two collectors never share marks or cut each other's files. */
export type StateLock = PidLock;

export const StateLock = {
  /** Takes the lock on `stateDir`; LW_ERR_STATE_LOCKED when a live collector holds it. */
  acquire(stateDir: string, options: StateLockOptions = {}): Promise<PidLock> {
    return PidLock.acquire(stateDir, {
      ...options,
      held: (pid, ours, path) =>
        new LogwireError(
          'LW_ERR_STATE_LOCKED',
          `the state directory ${stateDir} is in use by ${ours ? 'this process' : `process ${pid}`} ` +
            `(${path}) — is another collector running? Give each collector its own --state directory`,
        ),
      failed: (error) =>
        error instanceof LogwireError
          ? error
          : new LogwireError(
              'LW_ERR_CHECKPOINT',
              `cannot lock the state directory ${stateDir}: ${String(error)}`,
              {
                cause: error,
              },
            ),
    });
  },
};
