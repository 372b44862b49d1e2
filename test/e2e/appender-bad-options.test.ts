/**
 * A bad option through `pino.transport` (the packed install, by package name) is reported in one
 * line on stderr, the records go to the fallback, and the app runs to its normal end.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runApp } from '../helpers/app-process.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-bad-options-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function numbers(ndjson: string): number[] {
  return ndjson
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { n: number }).n);
}

describe('a bad appender option through pino.transport', () => {
  it('says so in one line, sends the records to stderr and lets the app run', async () => {
    const run = await runApp({ options: { closeTimeout: '5s' }, count: 20, paceEvery: 5, paceMs: 5 });
    expect(run.code).toBe(0);
    const lines = run.stderr.split('\n').filter((line) => !line.startsWith('{') && line !== '');
    expect(lines).toEqual([
      'logwire appender: not shipping: appender option closeTimeout must be a whole number of milliseconds from 0 to 9000; got "5s"; records go to stderr',
    ]);
    expect(numbers(run.stderr)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('suggests the near-miss name and uses the configured fallback', async () => {
    const fallback = join(dir, 'fallback.ndjson');
    const run = await runApp({ options: { closeTimout: 100, fallback }, count: 10 });
    expect(run.code).toBe(0);
    expect(run.stderr.trim()).toBe(
      `logwire appender: not shipping: appender option closeTimout is not an option; did you mean closeTimeout?; records go to ${fallback}`,
    );
    expect(numbers(await readFile(fallback, 'utf8'))).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });
});
