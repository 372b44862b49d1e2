import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

/**
 * The files `logwire ship` follows: each argument is a file (followed once it exists), a
 * directory (every file under it, recursively) or a glob pattern: `*` and `?` match within one
 * path segment, `**` any number of segments. Matching is redone at every scan, so new files are
 * picked up.
 */

const GLOB = /[*?]/;

export interface PathPattern {
  /** The directory the walk starts from. */
  readonly base: string;
  /** Matches an absolute path; undefined: the argument is one path. */
  readonly match: ((path: string) => boolean) | undefined;
}

export function parsePattern(arg: string, cwd: string): PathPattern {
  const absolute = isAbsolute(arg) ? arg : resolve(cwd, arg);
  if (!GLOB.test(absolute)) return { base: absolute, match: undefined };
  const parts = absolute.split(sep);
  const firstGlob = parts.findIndex((part) => GLOB.test(part));
  const base = parts.slice(0, firstGlob).join(sep) || sep;
  const regex = new RegExp(
    `^${parts.map(segmentRegex).join('\\/')}$`.replace(/\\\/\(\?:\.\*\)\\\//g, '\\/(?:.*\\/)?'),
  );
  return { base, match: (path) => regex.test(path) };
}

function segmentRegex(segment: string): string {
  if (segment === '**') return '(?:.*)';
  let out = '';
  for (const char of segment) {
    if (char === '*') out += '[^/]*';
    else if (char === '?') out += '[^/]';
    else out += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

/** The regular files the patterns name now, sorted. A path argument is listed even if absent. */
export function expandPatterns(patterns: readonly PathPattern[]): string[] {
  const found = new Set<string>();
  for (const pattern of patterns) {
    if (pattern.match === undefined) {
      const kind = kindOf(pattern.base);
      if (kind === 'dir') walk(pattern.base, () => true, found);
      else found.add(pattern.base);
    } else walk(pattern.base, pattern.match, found);
  }
  return [...found].sort();
}

function kindOf(path: string): 'dir' | 'file' | 'none' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'none';
  }
}

function walk(dir: string, match: (path: string) => boolean, found: Set<string>): void {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // gone, or not readable: looked at again at the next scan
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, match, found);
    else if (entry.isFile() && match(path)) found.add(path);
  }
}
