import { constants } from 'node:fs';
import { type FileHandle, open, opendir, realpath } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { errorCode, LogwireError } from '../../shared/errors.js';
import { confinePath } from '../outputs/confined-path.js';
import type { OutputMark } from './checkpoint-store.js';

/**
 * The start-up half of exactly-once (see checkpoint.ts): every output the checkpoint knows is
 * cut back to its checkpointed length when it is still the same file (dev, ino) and longer by
 * no more than the tail the writer declared before its last write (checkpoint-store.ts).
 *
 * A file longer by more than that was not left so by a crash: the checkpoint is damaged (a
 * journal cut short, a length edited) or older than the outputs (restored from a backup). What
 * lies past its length was written, and very likely acknowledged: cutting it would delete
 * acknowledged records. Such a file is `doubtful`; the caller refuses to start unless the
 * operator accepts the files as they are (nothing is cut anywhere until every file is checked).
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
  /**
   * Same file, longer than checkpointed by more than the declared tail: not cut. Kept as it is
   * (its length noted anew) only when the operator accepted it; otherwise recovery refuses.
   */
  readonly doubtful: {
    readonly path: string;
    readonly size: number;
    readonly checkpointed: number;
    readonly tail: number;
  }[];
}

export interface RecoveryOptions {
  /** Bytes the last declared write could add per path (CheckpointState.tail). */
  readonly tail: ReadonlyMap<string, number>;
  readonly fsync: boolean;
  /** Keep doubtful files as they are instead of refusing (`--accept-outputs`). */
  readonly acceptOutputs: boolean;
}

export interface RecoveryResult {
  readonly report: RecoveryReport;
  /** What the checkpoint should now say of each output (null: forget it). */
  readonly updates: Map<string, OutputMark | null>;
}

export async function recoverOutputs(
  outputDir: string,
  outputs: Iterable<readonly [string, OutputMark]>,
  options: RecoveryOptions,
): Promise<RecoveryResult> {
  const report: RecoveryReport = {
    truncated: [],
    shorter: [],
    replaced: [],
    missing: [],
    failed: [],
    doubtful: [],
  };
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
  const limit = (path: string, mark: OutputMark): number => mark.size + (options.tail.get(path) ?? 0);
  // First look at every file; cut only when none is doubtful (or the operator accepted them).
  const outcomes: [string, OutputMark, Outcome][] = [];
  let refusing = false;
  for (const [path, mark] of entries) {
    const outcome = await recoverOne(root, path, mark, limit(path, mark), undefined);
    if (outcome.kind === 'doubtful' && !options.acceptOutputs) refusing = true;
    outcomes.push([path, mark, outcome]);
  }
  for (const [path, mark, inspected] of outcomes) {
    const outcome =
      inspected.kind === 'truncated' && !refusing
        ? await recoverOne(root, path, mark, limit(path, mark), { fsync: options.fsync })
        : inspected;
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
      case 'doubtful':
        report.doubtful.push({
          path,
          size: outcome.size,
          checkpointed: mark.size,
          tail: limit(path, mark) - mark.size,
        });
        if (options.acceptOutputs) updates.set(path, { ...mark, size: outcome.size });
        break;
    }
  }
  return { report, updates };
}

type Outcome =
  | { readonly kind: 'same' | 'replaced' | 'missing' }
  | { readonly kind: 'truncated' | 'shorter' | 'doubtful'; readonly size: number }
  | { readonly kind: 'failed'; readonly reason: string };

/**
 * Checks one output against its mark; with `cut`, also cuts a crash tail (at most `limit`
 * long) back to the mark. Without it, `truncated` means "would be cut".
 */
async function recoverOne(
  root: string,
  path: string,
  mark: OutputMark,
  limit: number,
  cut: { readonly fsync: boolean } | undefined,
): Promise<Outcome> {
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
    if (size > limit) return { kind: 'doubtful', size };
    if (cut === undefined) return { kind: 'truncated', size };
    await handle.truncate(mark.size);
    if (cut.fsync) await handle.datasync();
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

/** Files shown by name in a refusal at most; the count says how many more. */
const NAMED = 5;

/**
 * Up to `NAMED` + 1 non-empty regular files under `outputDir` (paths relative to it), leaving
 * out `exclude` (the state directory, when it lies inside): outputs a checkpoint that
 * holds nothing cannot account for.
 */
export async function findOutputs(outputDir: string, exclude: string): Promise<string[]> {
  const found: string[] = [];
  let skip: string | undefined;
  try {
    skip = await realpath(exclude);
  } catch {
    skip = undefined;
  }
  const walk = async (dir: string): Promise<void> => {
    if (found.length > NAMED || (await realpath(dir).catch(() => dir)) === skip) return;
    let entries: Awaited<ReturnType<typeof opendir>>;
    try {
      entries = await opendir(dir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw error;
    }
    for await (const entry of entries) {
      if (found.length > NAMED) break;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && (await nonEmpty(path))) found.push(relative(outputDir, path));
    }
  };
  await walk(outputDir);
  return found;
}

async function nonEmpty(path: string): Promise<boolean> {
  try {
    const handle = await open(path, constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    try {
      return (await handle.stat()).size > 0;
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}

/** What the operator reads when recovery will not cut: what was found, and what to do. */
export function refusalMessage(
  stateDir: string,
  found: { readonly doubtful: RecoveryReport['doubtful'] } | { readonly unaccounted: string[] },
): string {
  const accept =
    'Nothing was cut. To keep the output files as they are, start once with --accept-outputs ' +
    '(records of a write under way at a crash may then appear twice; none is deleted); or restore ' +
    `the state directory ${stateDir} from a backup taken with the outputs.`;
  if ('unaccounted' in found) {
    const names = found.unaccounted.slice(0, NAMED).join(', ');
    const more = found.unaccounted.length > NAMED ? ' and more' : '';
    return (
      `recovery refused: the output directory holds records (${names}${more}) but the checkpoint ` +
      `in ${stateDir} is missing or empty, so the marks of the sources that wrote them are gone ` +
      `and every record they resend would be written again. ${accept}`
    );
  }
  const files = found.doubtful
    .slice(0, NAMED)
    .map((f) => `${f.path} is ${f.size} bytes, checkpointed at ${f.checkpointed} with ${f.tail} in flight`)
    .join('; ');
  const more = found.doubtful.length > NAMED ? `; and ${found.doubtful.length - NAMED} more` : '';
  return (
    `recovery refused: the checkpoint in ${stateDir} cannot account for ${found.doubtful.length} ` +
    `output file(s) (${files}${more}). A crash leaves at most the one write under way past a ` +
    'checkpointed length; more means the checkpoint is damaged or older than the outputs, and ' +
    `cutting would delete acknowledged records. ${accept}`
  );
}

/**
 * Checkpoint.recover's work: refuses (LW_ERR_CHECKPOINT, nothing cut) an empty checkpoint beside
 * outputs holding records, or outputs longer than a crash can leave them, unless
 * `acceptOutputs`; otherwise cuts and notes as recoverOutputs says.
 */
export async function recoverState(
  stateDir: string,
  outputDir: string,
  outputs: readonly (readonly [string, OutputMark])[],
  options: Omit<RecoveryOptions, 'acceptOutputs'> & {
    readonly foundEmpty: boolean;
    readonly acceptOutputs: boolean;
  },
): Promise<RecoveryResult> {
  const { acceptOutputs } = options;
  if (options.foundEmpty && !acceptOutputs) {
    const unaccounted = await findOutputs(outputDir, stateDir);
    if (unaccounted.length > 0)
      throw new LogwireError('LW_ERR_CHECKPOINT', refusalMessage(stateDir, { unaccounted }));
  }
  const result = await recoverOutputs(outputDir, outputs, {
    tail: options.tail,
    fsync: options.fsync,
    acceptOutputs,
  });
  if (result.report.doubtful.length > 0 && !acceptOutputs)
    throw new LogwireError(
      'LW_ERR_CHECKPOINT',
      refusalMessage(stateDir, { doubtful: result.report.doubtful }),
    );
  return result;
}
