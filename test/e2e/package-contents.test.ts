/**
 * What `npm pack` ships: the build, the docs, the README and the MIT LICENSE that package.json
 * names; no source map pointing to TypeScript sources the package does not ship.
 */

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');

it('ships LICENSE (MIT, as package.json says) and no source map or map reference', async () => {
  // --ignore-scripts: the pack must not rebuild dist/ under the other e2e tests' feet.
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
  const files = (JSON.parse(stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
  expect(files).toContain('LICENSE');
  expect(files.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
  expect(files.filter((path) => path.endsWith('.map'))).toEqual([]);
  const js = files.filter((path) => path.endsWith('.js'));
  expect(js.length).toBeGreaterThan(0);
  const withMapReference: string[] = [];
  for (const path of js) {
    if ((await readFile(join(ROOT, path), 'utf8')).includes('sourceMappingURL')) withMapReference.push(path);
  }
  expect(withMapReference).toEqual([]);
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { license: string };
  const license = await readFile(join(ROOT, 'LICENSE'), 'utf8');
  expect(pkg.license).toBe('MIT');
  expect(license).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} logwire contributors\n/);
});
