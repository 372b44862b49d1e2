import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { expandPatterns, parsePattern } from '../../ship/path-pattern.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function tree(): void {
  dir = mkdtempSync(join(tmpdir(), 'lw-pattern-'));
  for (const path of ['a.log', 'a.log.1', 'b.txt', 'sub/c.log', 'sub/deep/d.log']) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), '');
  }
}

const rel = (paths: string[]) => paths.map((path) => path.slice(dir.length + 1));

it('expands *, ** and directories, and keeps a plain path that does not exist yet', () => {
  tree();
  const expand = (...args: string[]) => rel(expandPatterns(args.map((arg) => parsePattern(arg, dir))));
  expect(expand('*.log')).toEqual(['a.log']);
  expect(expand('**/*.log')).toEqual(['a.log', 'sub/c.log', 'sub/deep/d.log']);
  expect(expand('sub/**')).toEqual(['sub/c.log', 'sub/deep/d.log']);
  expect(expand('a.log.?')).toEqual(['a.log.1']);
  expect(expand('sub')).toEqual(['sub/c.log', 'sub/deep/d.log']);
  expect(expand('later.log')).toEqual(['later.log']);
});
