import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeDirs, makeDirsSync } from '../../shared/make-dirs.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lw-make-dirs-'));
  dirs.push(dir);
  return dir;
}

describe.each([
  ['makeDirs', (path: string, mode?: number) => makeDirs(path, mode)],
  ['makeDirsSync', async (path: string, mode?: number) => makeDirsSync(path, mode)],
])('%s', (_name, make) => {
  it('makes every missing parent with the mode, and takes an existing directory as it is', async () => {
    const root = scratch();
    const deep = join(root, 'a', 'b', 'c');
    await make(deep, 0o750);
    expect(statSync(deep).isDirectory()).toBe(true);
    expect(statSync(join(root, 'a')).mode & 0o777).toBe(0o750);
    await make(deep, 0o750);
    await make(root);
    expect(statSync(deep).isDirectory()).toBe(true);
  });

  it('fails (does not spin) where procfs will not take a new directory', async () => {
    // Node's own recursive mkdir loops for ever on this path.
    await expect(make('/proc/logwire-test/x')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails on a file in the way', async () => {
    const root = scratch();
    writeFileSync(join(root, 'file'), '');
    await expect(make(join(root, 'file', 'x'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});
