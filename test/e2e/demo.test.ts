/**
 * `npm start` runs examples/demo.mjs (after the build): one Ctrl-C (SIGINT to its process
 * group, as a terminal sends it) stops the app, then the collector, and exits 0 with every
 * record the app logged in logs/demo.log.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/records.js';

const DEMO = resolve(import.meta.dirname, '..', '..', 'examples', 'demo.mjs');
let dir: string;
let demo: ChildProcess | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-demo-'));
});

afterEach(async () => {
  if (demo?.pid !== undefined && demo.exitCode === null && demo.signalCode === null) {
    process.kill(-demo.pid, 'SIGKILL');
    await once(demo, 'exit');
  }
  await rm(dir, { recursive: true, force: true });
});

async function lines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((line) => line !== '');
}

describe('npm start (examples/demo.mjs)', () => {
  it('stops on one SIGINT to its process group, exits 0, and every record is in logs/demo.log', async () => {
    demo = spawn(process.execPath, [DEMO], {
      cwd: dir,
      detached: true, // its own process group, as a terminal's foreground job
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LOGWIRE_DEMO_LISTEN: 'tcp/127.0.0.1:0', LOGWIRE_DEMO_INTERVAL: '2' },
    });
    let stderr = '';
    demo.stderr!.setEncoding('utf8');
    demo.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = once(demo, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const log = join(dir, 'logs', 'demo.log');
    await eventually(async () => expect((await lines(log)).length).toBeGreaterThanOrEqual(50), 30_000);
    process.kill(-demo.pid!, 'SIGINT');
    const [code, signal] = await exited;
    expect({ code, signal, stderr }).toMatchObject({ code: 0, signal: null });
    const logged = Number(/demo app: (\d+) records logged/.exec(stderr)?.[1]);
    const records = (await lines(log)).map((line) => JSON.parse(line) as { n: number; msg: string });
    expect(records).toHaveLength(logged);
    const paid = records.filter((r) => r.msg === 'order paid').map((r) => r.n);
    expect(paid).toEqual(Array.from({ length: paid.length }, (_, i) => i + 1));
    expect(stderr).not.toMatch(/second stop signal|not acknowledged|are lost/);
  });
});
