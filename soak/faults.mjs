/**
 * The faults that act on files: real logrotate (create and copytruncate) and a full output disk.
 */

import { execFile } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Tries a small tmpfs at dir (as root). Returns null when mounted, else why not. */
export async function mountTmpfs(dir, bytes) {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (mount needs it)';
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir]);
    return null;
  } catch (error) {
    return `mount -t tmpfs failed: ${String(error.stderr || error.message).trim()}`;
  }
}

export async function unmount(dir) {
  await run('umount', [dir]).catch(() => {});
}

/**
 * Rotates every `soak-*.log` in `output` with /usr/sbin/logrotate, then moves each `.1` into
 * `output/archive/` as `<name>.<k>.<mode>` (same filesystem: a rename, so a writer still holding
 * the old file keeps writing into the archived one). Returns the archived paths.
 */
export async function logrotate({ output, mode, k, signalCommand, work }) {
  const postrotate =
    mode === 'create' ? `\n  sharedscripts\n  postrotate\n    ${signalCommand}\n  endscript` : '';
  const config = `${output}/soak-*.log {\n  rotate 1\n  ${mode}\n  missingok\n  nocompress${postrotate}\n}\n`;
  const configPath = join(work, `logrotate-${k}.conf`);
  writeFileSync(configPath, config);
  await run('/usr/sbin/logrotate', ['-f', '-s', join(work, 'logrotate.state'), configPath]);
  const archive = join(output, 'archive');
  mkdirSync(archive, { recursive: true });
  const moved = [];
  for (const name of readdirSync(output)) {
    if (!name.endsWith('.log.1')) continue;
    const to = join(archive, `${name.slice(0, -2)}.${k}.${mode}`);
    renameSync(join(output, name), to);
    moved.push(to);
  }
  return moved;
}

/** Fills the filesystem of `output` with a filler file until ENOSPC. Returns its size. */
export function fillDisk(output) {
  const path = join(output, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  let bytes = 0;
  try {
    for (;;) bytes += writeSync(fd, chunk);
  } catch (error) {
    if (error.code !== 'ENOSPC') throw error;
    // The last partial MiB: fill to the last page.
    const small = Buffer.alloc(4096, 0x61);
    try {
      for (;;) bytes += writeSync(fd, small);
    } catch {}
  } finally {
    closeSync(fd);
  }
  return bytes;
}

export function freeDisk(output) {
  const path = join(output, 'filler');
  if (existsSync(path)) rmSync(path);
}
