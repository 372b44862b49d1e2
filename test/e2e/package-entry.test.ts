/**
 * The package as users install it (`npm pack`): both entries of `exports` load by name.
 */

import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
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
