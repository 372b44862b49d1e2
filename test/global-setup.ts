/**
 * Packs logwire as users get it (`npm pack`) and installs the tarball, beside pino, into a
 * fixture app, so e2e tests load `logwire/appender` by package name, never by file path.
 * Runs once per `vitest run`; skipped when no e2e test is selected.
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

const ROOT = resolve(import.meta.dirname, '..');
export const PACKED_APP_DIR = join(ROOT, '.tmp', 'packed-app');

export default function setup(project: TestProject): void {
  const filters = project.vitest.config.include.concat(process.argv.slice(2));
  const wantsE2e =
    process.argv.slice(2).every((arg) => arg.startsWith('-')) || filters.some((f) => f.includes('e2e'));
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
