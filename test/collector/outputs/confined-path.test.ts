import { mkdir, mkdtemp, realpath, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { confinePath, isInside } from '../../../collector/outputs/confined-path.js';

let base: string;
let root: string;

beforeEach(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'lw-confine-')));
  root = join(base, 'out');
  await mkdir(root);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('isInside', () => {
  it('tells inside from a sibling with the same prefix', () => {
    expect(isInside('/a/out', '/a/out/x')).toBe(true);
    expect(isInside('/a/out', '/a/out')).toBe(true);
    expect(isInside('/a/out', '/a/outside/x')).toBe(false);
    expect(isInside('/', '/x')).toBe(true);
  });
});

describe('confinePath', () => {
  it('creates missing parents with exactly the directory mode', async () => {
    const path = await confinePath(root, 'a/b/c.log', { dirMode: 0o711 });
    expect(path).toBe(join(root, 'a/b/c.log'));
    expect((await stat(join(root, 'a'))).mode & 0o777).toBe(0o711);
    expect((await stat(join(root, 'a/b'))).mode & 0o777).toBe(0o711);
  });

  it('gives undefined for a missing parent when asked not to create', async () => {
    expect(await confinePath(root, 'nope/c.log')).toBeUndefined();
  });

  it('refuses a path that leaves the directory by ..', async () => {
    await expect(confinePath(root, '../x.log', { dirMode: 0o750 })).rejects.toMatchObject({
      code: 'LW_ERR_PATH_ESCAPE',
    });
  });

  it('refuses a symlinked directory that leads outside, creating nothing there', async () => {
    const outside = join(base, 'elsewhere');
    await mkdir(outside);
    await symlink(outside, join(root, 'evil'));
    await expect(confinePath(root, 'evil/x.log', { dirMode: 0o750 })).rejects.toMatchObject({
      code: 'LW_ERR_PATH_ESCAPE',
    });
    await expect(confinePath(root, 'evil/deep/x.log', { dirMode: 0o750 })).rejects.toMatchObject({
      code: 'LW_ERR_PATH_ESCAPE',
    });
    await expect(stat(join(outside, 'deep'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('allows a symlinked directory that stays inside', async () => {
    await mkdir(join(root, 'real'));
    await symlink(join(root, 'real'), join(root, 'alias'));
    expect(await confinePath(root, 'alias/x.log', { dirMode: 0o750 })).toBe(join(root, 'real/x.log'));
  });

  it('refuses paths inside an excluded directory (the state)', async () => {
    await mkdir(join(root, 'state'));
    await expect(
      confinePath(root, 'state/checkpoint.json', { dirMode: 0o750, exclude: [join(root, 'state')] }),
    ).rejects.toMatchObject({ code: 'LW_ERR_PATH_ESCAPE' });
  });
});
