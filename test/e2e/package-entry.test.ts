/**
 * The package as users install it (`npm pack`): both entries of `exports` load by name.
 */

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const PACKED_APP_DIR = join(resolve(import.meta.dirname, '..', '..'), '.tmp', 'packed-app');

it('loads `logwire` (ESM) and resolves `logwire/appender` for pino (require.resolve)', async () => {
  const script = `
    import { createRequire } from 'node:module';
    const api = await import('logwire');
    const names = ['startCollector', 'createAppender', 'parseLine', 'formatLine', 'FrameDecoder', 'Dispatcher', 'PermanentClient', 'connectLink', 'listen'];
    const missing = names.filter((name) => typeof api[name] !== 'function');
    const appender = createRequire(import.meta.url).resolve('logwire/appender');
    const mod = await import('logwire/appender');
    console.log(JSON.stringify({ missing, appender, defaultExport: typeof mod.default }));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: PACKED_APP_DIR,
  });
  const result = JSON.parse(stdout) as { missing: string[]; appender: string; defaultExport: string };
  expect(result.missing).toEqual([]);
  expect(result.appender).toMatch(/node_modules\/logwire\/dist\/appender\/index\.js$/);
  expect(result.defaultExport).toBe('function');
});

it('starts a TCP appender without loading what only TLS, UDP or a spool need (worker start-up)', async () => {
  // pino starts the worker while the app's first log calls run: whatever it loads competes with them.
  const script = `
    const before = new Set(process.moduleLoadList);
    await import('logwire/appender');
    const loaded = process.moduleLoadList.filter((m) => !before.has(m)).map((m) => m.replace('NativeModule ', ''));
    console.log(JSON.stringify(loaded.filter((m) => ['tls', 'dgram', 'zlib', 'dns/promises'].includes(m))));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: PACKED_APP_DIR,
  });
  expect(JSON.parse(stdout)).toEqual([]);
});

/** The package's own files a module imports statically, and theirs (relative specifiers only). */
function staticGraph(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(
      /^(?:import|export)\s[^;]*?from\s*["'](\.[^"']+)["']|^import\s*["'](\.[^"']+)["']/gm,
    ))
      visit(resolve(dirname(file), (m[1] ?? m[2])!));
  };
  visit(entry);
  return [...seen];
}

it('the worker entries load a handful of files, not the whole source tree (bundled)', () => {
  // Each file is a read, a parse and a link in the worker while the app's first log calls run.
  const dist = join(PACKED_APP_DIR, 'node_modules', 'logwire', 'dist', 'appender');
  for (const entry of ['index.js', 'thread-worker.js']) {
    const files = staticGraph(join(dist, entry));
    expect(files.length, files.join('\n')).toBeLessThanOrEqual(6);
  }
});

it("'logwire' and 'logwire/appender' export one createAppender, throwing one LogwireError class", async () => {
  const script = `
    const api = await import('logwire');
    const appender = await import('logwire/appender');
    const error = await appender.createAppender({ address: 'nonsense' }).catch((e) => e);
    console.log(JSON.stringify([api.createAppender === appender.createAppender, error instanceof api.LogwireError, error.code]));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: PACKED_APP_DIR,
  });
  expect(JSON.parse(stdout)).toEqual([true, true, 'LW_ERR_BAD_OPTION']);
});
