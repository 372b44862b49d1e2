import { constants } from 'node:fs';
import { type FileHandle, open, realpath } from 'node:fs/promises';
import { errorCode, LogwireError } from '../shared/errors.js';
import type { OutputMark } from './checkpoint-store.js';
import { confinePath } from './outputs/confined-path.js';

/**
 * The start-up half of exactly-once (see checkpoint.ts): every output the checkpoint knows is
 * cut back to its checkpointed length when it is still the same file (dev, ino) and longer.
 */

const { O_NOFOLLOW, O_NONBLOCK, O_WRONLY } = constants;

export interface RecoveryReport {
  /** Cut back: the bytes past `to` were written but never checkpointed, so never acknowledged. */
  readonly truncated: { readonly path: string; readonly from: number; readonly to: number }[];
  /** Same file, now shorter than checkpointed (copytruncate): left alone, its length noted anew. */
  readonly shorter: { readonly path: string; readonly size: number; readonly checkpointed: number }[];
  /** Another file (or a symlink, or no regular file) at the path, rotated in: left alone, forgotten. */
  readonly replaced: string[];
  /** Nothing at the path any more: forgotten. */
  readonly missing: string[];
  /** Could not be checked (EACCES…): left alone and kept, for the next start to try again. */
  readonly failed: { readonly path: string; readonly reason: string }[];
}

export interface RecoveryResult {
  readonly report: RecoveryReport;
  /** What the checkpoint should now say of each output (null: forget it). */
  readonly updates: Map<string, OutputMark | null>;
}

export async function recoverOutputs(
  outputDir: string,
  outputs: Iterable<readonly [string, OutputMark]>,
  fsync: boolean,
): Promise<RecoveryResult> {
  const report: RecoveryReport = { truncated: [], shorter: [], replaced: [], missing: [], failed: [] };
  const updates = new Map<string, OutputMark | null>();
  const entries = [...outputs];
  if (entries.length === 0) return { report, updates };
  let root: string;
  try {
    root = await realpath(outputDir);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    for (const [path] of entries) {
      report.missing.push(path);
      updates.set(path, null);
    }
    return { report, updates };
  }
  for (const [path, mark] of entries) {
    const outcome = await recoverOne(root, path, mark, fsync);
    switch (outcome.kind) {
      case 'same':
        break;
      case 'truncated':
        report.truncated.push({ path, from: outcome.size, to: mark.size });
        break;
      case 'shorter':
        report.shorter.push({ path, size: outcome.size, checkpointed: mark.size });
        updates.set(path, { ...mark, size: outcome.size });
        break;
      case 'replaced':
      case 'missing':
        report[outcome.kind].push(path);
        updates.set(path, null);
        break;
      case 'failed':
        report.failed.push({ path, reason: outcome.reason });
        break;
    }
  }
  return { report, updates };
}

type Outcome =
  | { readonly kind: 'same' | 'replaced' | 'missing' }
  | { readonly kind: 'truncated' | 'shorter'; readonly size: number }
  | { readonly kind: 'failed'; readonly reason: string };

async function recoverOne(root: string, path: string, mark: OutputMark, fsync: boolean): Promise<Outcome> {
  let abs: string | undefined;
  try {
    abs = await confinePath(root, path);
  } catch (error) {
    // A directory on the way now leads outside: whatever is there is not ours to cut.
    if (error instanceof LogwireError && error.code === 'LW_ERR_PATH_ESCAPE') return { kind: 'replaced' };
    return { kind: 'failed', reason: reasonOf(error) };
  }
  if (abs === undefined) return { kind: 'missing' };
  let handle: FileHandle;
  try {
    handle = await open(abs, O_WRONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return { kind: 'missing' };
    if (code === 'ELOOP' || code === 'ENXIO' || code === 'EISDIR') return { kind: 'replaced' };
    return { kind: 'failed', reason: reasonOf(error) };
  }
  try {
    // Identity from the descriptor we would cut through, not from the path: no swap in between.
    const stat = await handle.stat({ bigint: true });
    if (!stat.isFile() || String(stat.dev) !== mark.dev || String(stat.ino) !== mark.ino)
      return { kind: 'replaced' };
    const size = Number(stat.size);
    if (size === mark.size) return { kind: 'same' };
    if (size < mark.size) return { kind: 'shorter', size };
    await handle.truncate(mark.size);
    if (fsync) await handle.datasync();
    return { kind: 'truncated', size };
  } catch (error) {
    return { kind: 'failed', reason: reasonOf(error) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
