import { LogwireError } from '../../shared/errors.js';
import { type LockHolder, SocketLock } from '../../shared/socket-lock.js';

export { LOCK_FILE } from '../../shared/socket-lock.js';

/** The state directory's lock, so two collectors never share marks or cut each other's files. */
export type StateLock = SocketLock;

export const StateLock = {
  /** Takes the lock on `stateDir`; LW_ERR_STATE_LOCKED while a live collector holds it. */
  acquire(stateDir: string): Promise<SocketLock> {
    return SocketLock.acquire(stateDir, {
      held: (holder, path) =>
        new LogwireError(
          'LW_ERR_STATE_LOCKED',
          `the state directory ${stateDir} is in use by ${describeHolder(holder)} (lock ${path}) — ` +
            'is another collector running? Give each collector its own --state directory',
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

/** The holder as it reports itself through the lock's socket (its pid is in its own namespace). */
export function describeHolder(holder: LockHolder): string {
  if (holder.ours) return 'this process';
  if (holder.pid === undefined) return 'a live process that did not say which';
  return `process ${holder.pid} on host ${holder.host ?? '?'}`;
}
