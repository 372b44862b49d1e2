/**
 * `logwire ship` following a file that the real logrotate rotates 10 times (`create`, then
 * `copytruncate`) while lines are appended, with ship SIGKILLed and restarted twice: every
 * line reaches the collector exactly once.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { killAllCollectors, LOGWIRE_BIN, startCollector } from '../helpers/collector-process.js';
import { until } from '../helpers/until.js';

const run = promisify(execFile);
const TOTAL = 20_000;
const PER_WRITE = 200;
const WRITES = TOTAL / PER_WRITE;
const ROTATE_EVERY = 9;
const KILL_AT = [33, 66];

let dir: string;
const ships = new Set<ChildProcess>();
afterEach(async () => {
  for (const ship of ships) if (ship.exitCode === null && ship.signalCode === null) ship.kill('SIGKILL');
  ships.clear();
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

function countLines(path: string): number {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').length - 1 : 0;
}

async function followRotations(mode: 'create' | 'copytruncate'): Promise<void> {
  dir = await mkdtemp(join(tmpdir(), `lw-ship-${mode}-`));
  const logs = join(dir, 'logs');
  const collector = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', logs], {
    cwd: dir,
    listeners: 1,
  });
  const port = collector.port('tcp');
  const app = join(dir, 'app');
  mkdirSync(app);
  const file = join(app, 'app.log');
  const conf = join(dir, 'logrotate.conf');
  await writeFile(
    conf,
    `${file} {\n  rotate 50\n  ${mode === 'create' ? 'create 0640' : 'copytruncate'}\n  nocompress\n  missingok\n}\n`,
  );
  let stderr = '';
  const startShip = (): ChildProcess => {
    const ship = spawn(
      process.execPath,
      [
        LOGWIRE_BIN,
        'ship',
        '--address',
        `tcp/127.0.0.1:${port}`,
        '--service',
        'files',
        '--spool',
        join(dir, 'ship'),
        join(app, '*.log'),
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    ship.stderr!.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    ships.add(ship);
    return ship;
  };
  const output = join(logs, 'files.log');
  let ship = startShip();
  let rotations = 0;
  /** The number of the first line written since the last rotation. */
  let generationStart = 1;
  for (let write = 0; write < WRITES; write++) {
    let text = '';
    for (let n = write * PER_WRITE + 1; n <= (write + 1) * PER_WRITE; n++) {
      text += n % 100 === 0 ? `plain ${n}\n` : `${JSON.stringify({ n })}\n`;
    }
    appendFileSync(file, text);
    // The first lines shipped show ship follows the file before it is first rotated.
    if (write === 0) await until(() => countLines(output) === PER_WRITE, 'the first lines in the output');
    if (write % ROTATE_EVERY === ROTATE_EVERY - 1 && rotations < 10) {
      // ship's precondition (docs/ship.md): a file lives until ship has opened it, one poll.
      await until(() => countLines(output) >= generationStart, 'ship to open the current file');
      await run('logrotate', ['-f', '-s', join(dir, 'logrotate.state'), conf]);
      rotations += 1;
      generationStart = (write + 1) * PER_WRITE + 1;
    }
    if (KILL_AT.includes(write)) {
      // Killed while it has read lines the collector has not acknowledged yet.
      await until(() => countLines(output) > write * PER_WRITE - 2 * PER_WRITE, 'ship to catch up');
      ship.kill('SIGKILL');
      await once(ship, 'exit');
      ship = startShip();
    }
  }
  expect(rotations).toBe(10);
  await until(() => countLines(output) >= TOTAL, `all ${TOTAL} lines in the output\n${stderr}`, 60_000);
  ship.kill('SIGTERM');
  const [code] = await once(ship, 'exit');
  expect(code, stderr).toBe(0);
  const seen = new Map<number, number>();
  for (const line of readFileSync(output, 'utf8').trimEnd().split('\n')) {
    const record = JSON.parse(line) as { n?: number; msg?: string; file: string };
    expect(record.file).toBe(file);
    const n = record.n ?? Number(record.msg?.slice('plain '.length));
    seen.set(n, (seen.get(n) ?? 0) + 1);
  }
  expect([...seen].filter(([, times]) => times !== 1)).toEqual([]);
  expect(seen.size).toBe(TOTAL);
}

it('follows a file through 10 logrotate create rotations and two SIGKILLs, every line once', async () => {
  await followRotations('create');
}, 120_000);

it('follows a file through 10 logrotate copytruncate rotations and two SIGKILLs, every line once', async () => {
  await followRotations('copytruncate');
}, 120_000);
