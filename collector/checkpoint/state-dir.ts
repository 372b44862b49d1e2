/** The state directory opened for a checkpoint: created if needed, locked, its store loaded. */

import { LogwireError } from '../../shared/errors.js';
import { makeDirs } from '../../shared/make-dirs.js';
import { StateLock } from './checkpoint-lock.js';
import { CheckpointStore, type CheckpointStoreOptions } from './checkpoint-store.js';

/**
 * LW_ERR_STATE_LOCKED when a live collector holds the directory, LW_ERR_CHECKPOINT when it
 * cannot be created or its checkpoint is damaged (the lock is then given back).
 */
export async function openStateDir(
  stateDir: string,
  options: CheckpointStoreOptions,
): Promise<{ lock: StateLock; store: CheckpointStore }> {
  try {
    await makeDirs(stateDir, 0o700);
  } catch (error) {
    throw new LogwireError(
      'LW_ERR_CHECKPOINT',
      `cannot create the state directory ${stateDir}: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
  const lock = await StateLock.acquire(stateDir);
  try {
    return { lock, store: await CheckpointStore.open(stateDir, options) };
  } catch (error) {
    await lock.release();
    throw error;
  }
}
