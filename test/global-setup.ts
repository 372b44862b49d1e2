/**
 * Packs logwire as users get it (`npm pack`) and installs the tarball, beside pino, into a
 * fixture app, so e2e tests load `logwire/appender` by package name, never by file path.
 * Runs once per `vitest run`; skipped when no e2e test is selected.
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
export const PACKED_APP_DIR = join(ROOT, '.tmp', 'packed-app');

export default function setup(): void {
  // File filters on the command line (`vitest run test/shared`) that name no e2e test skip the
  // pack; a plain `vitest run` (as `npm test` runs it) always packs.
  const filters = process.argv
    .slice(2)
    .filter((arg) => !arg.startsWith('-') && !['run', 'watch', 'related'].includes(arg));
  const wantsE2e = filters.length === 0 || filters.some((filter) => filter.includes('e2e'));
  if (!wantsE2e || process.env.LOGWIRE_SKIP_PACK === '1') return;
  const tmp = join(ROOT, '.tmp');
  mkdirSync(tmp, { recursive: true });
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', tmp], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const tarball = join(tmp, out.trim().split('\n').pop()!);
  rmSync(PACKED_APP_DIR, { recursive: true, force: true });
  mkdirSync(PACKED_APP_DIR, { recursive: true });
  const pinoVersion = (
    JSON.parse(
      execFileSync('node', ['-p', 'JSON.stringify(require("pino/package.json"))'], {
        cwd: ROOT,
        encoding: 'utf8',
      }),
    ) as { version: string }
  ).version;
  writeFileSync(
    join(PACKED_APP_DIR, 'package.json'),
    JSON.stringify({
      name: 'packed-app',
      private: true,
      type: 'module',
      dependencies: { logwire: `file:${tarball}`, pino: pinoVersion },
    }),
  );
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent'], {
    cwd: PACKED_APP_DIR,
    stdio: 'inherit',
  });
}
