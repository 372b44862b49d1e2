/**
 * The short fault soak (soak/run.mjs --profile short) against the build in dist/: numbered
 * records over every transport through kills, cuts, a black hole, a stop, a pause, logrotate in
 * both modes, a full disk and hostile inputs. It exits 0 only when no acknowledged record was
 * lost or duplicated; its timeline and table are printed when it fails.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');

it('loses and duplicates no acknowledged record through the short profile of faults', async () => {
  const child = spawn(process.execPath, [join(ROOT, 'soak', 'run.mjs'), '--profile', 'short'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  expect(output).toMatch(/soak short: PASS/);
  expect(code, output).toBe(0);
}, 180_000);
