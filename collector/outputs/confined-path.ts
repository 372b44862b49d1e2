import { chmod, mkdir, realpath } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { syncDirectory } from '../../shared/durable-file.js';
import { errorCode, LogwireError } from '../../shared/errors.js';

/**
 * Where an output file may be opened: inside the output directory, as seen through symlinks.
 * A template is checked at config time (path-template.ts); here the disk is checked at open
 * time, because a directory on the way may be a symlink planted later. The file itself is then
 * opened with O_NOFOLLOW. A swap between this check and the open is a race Node cannot close
 * (no openat); the output directory is the operator's, not the peers'.
 */

/** True when `path` is `root` or inside it (both absolute and normalized). */
export function isInside(root: string, path: string): boolean {
  if (path === root) return true;
  const prefix = root.endsWith(sep) ? root : root + sep;
  return path.startsWith(prefix);
}

export interface ConfineOptions {
  /** Create missing parent directories with this mode (exactly: the umask does not apply). */
  readonly dirMode?: number;
  /** Real paths that outputs must stay out of (the state directory when it is under the output). */
  readonly exclude?: readonly string[];
  /** Flush each created directory's entry to the device (durability = fsync). */
  readonly sync?: boolean;
}

/**
 * The absolute path to open for `rel` under `rootReal` (a realpath), its parent resolved
 * through any symlinks and checked to stay inside. Without `dirMode`, a missing parent gives
 * undefined; with it, missing parents are created. Escapes fail with LW_ERR_PATH_ESCAPE.
 */
export async function confinePath(
  rootReal: string,
  rel: string,
  options: ConfineOptions = {},
): Promise<string | undefined> {
  const wanted = join(rootReal, rel);
  const refuse = (why: string): never => {
    throw new LogwireError('LW_ERR_PATH_ESCAPE', `output ${JSON.stringify(rel)} ${why}; not opened`);
  };
  if (!isInside(rootReal, wanted) || wanted === rootReal) refuse(`leaves the output directory ${rootReal}`);
  const parent = dirname(wanted);
  // Resolve the deepest existing ancestor before creating anything below it: `mkdir -p`
  // through a symlinked directory would create directories outside first.
  const missing: string[] = [];
  let existing = parent;
  let real: string | undefined;
  while (real === undefined) {
    try {
      real = await realpath(existing);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' || existing === rootReal) throw outputError(rel, 'resolve', error);
      missing.unshift(basename(existing));
      existing = dirname(existing);
    }
  }
  if (!isInside(rootReal, real)) refuse(`resolves to ${join(real, ...missing)} outside the output directory`);
  if (missing.length > 0) {
    if (options.dirMode === undefined) return undefined;
    for (const name of missing) {
      const above = real;
      real = join(real, name);
      try {
        await mkdir(real, { mode: options.dirMode });
        await chmod(real, options.dirMode);
        if (options.sync === true) await syncDirectory(above);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw outputError(rel, 'create the directories of', error);
      }
    }
    // Someone may have raced a symlink in while we created: resolve again.
    real = await realpath(parent).catch((error: unknown) => {
      throw outputError(rel, 'resolve', error);
    });
    if (!isInside(rootReal, real)) refuse(`resolves to ${real} outside the output directory`);
  }
  for (const excluded of options.exclude ?? []) {
    if (isInside(excluded, real)) refuse(`lies in ${excluded}, which is not an output`);
  }
  return join(real, basename(wanted));
}

/** LW_ERR_OUTPUT saying what was being done to which output. */
export function outputError(rel: string, doing: string, error: unknown): LogwireError {
  if (error instanceof LogwireError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new LogwireError('LW_ERR_OUTPUT', `cannot ${doing} output ${JSON.stringify(rel)}: ${reason}`, {
    cause: error,
  });
}

/** The `code` of a Node.js system error (ENOENT, EEXIST…). */
