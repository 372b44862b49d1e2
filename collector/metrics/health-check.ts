/**
 * `/health`: healthy while every listener is up and the outputs can be written. The output
 * and state directories are probed by creating and removing a file in each (what a write
 * needs; a read-only or immutable directory fails it even for root), and a checkpoint that
 * cannot be saved (checkpoint-health.ts) counts as unwritable too.
 */

import { randomBytes } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export type Health = { readonly healthy: true } | { readonly healthy: false; readonly reason: string };

export interface HealthSource {
  /** Whether the listeners are all up (false from STOP on). */
  readonly listenersUp: () => boolean;
  readonly outputDir: () => string;
  readonly stateDir: () => string;
  /** Why the checkpoint cannot be saved, when it cannot. */
  readonly checkpointProblem: () => string | undefined;
}

async function probeWritable(dir: string): Promise<string | undefined> {
  const probe = join(dir, `.logwire-health-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(probe, 'wx');
    await handle.close();
    await unlink(probe);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return `${dir} is not writable (${code})`;
  }
}

export async function checkHealth(source: HealthSource): Promise<Health> {
  if (!source.listenersUp()) return { healthy: false, reason: 'listeners are closed (stopping)' };
  const checkpoint = source.checkpointProblem();
  if (checkpoint !== undefined)
    return { healthy: false, reason: `checkpoint cannot be saved: ${checkpoint}` };
  for (const dir of [source.outputDir(), source.stateDir()]) {
    const problem = await probeWritable(dir);
    if (problem !== undefined) return { healthy: false, reason: problem };
  }
  return { healthy: true };
}
