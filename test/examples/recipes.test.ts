/**
 * examples/*.mjs recipes, each run as its header says: the real `logwire collector` CLI, then the
 * example from the repository (it imports logwire by package name, resolved through the package's
 * own "exports"; `npm run build` first), pointed at the collector's real port with `--address`.
 * Each test asserts the records that land in the files.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type CollectorProcess, killAllCollectors, startCollector } from '../helpers/collector-process.js';
import { tempDir, within } from '../helpers/net-fixtures.js';

const EXAMPLES = resolve(import.meta.dirname, '..', '..', 'examples');

interface Run {
  readonly code: number | null;
  readonly stderr: string;
}

const children = new Set<ChildProcess>();

/** Runs `node examples/<script> …args` in `cwd` to its end. */
async function runExample(script: string, args: readonly string[], cwd: string): Promise<Run> {
  const child = spawn(process.execPath, [join(EXAMPLES, script), ...args], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const [code] = (await within(once(child, 'exit'), `${script} to exit`, 25_000)) as [number | null];
  children.delete(child);
  return { code, stderr };
}

interface PinoRecord {
  readonly name: string;
  readonly n: number;
  readonly pid: number;
  readonly msg: string;
}

function records(path: string): PinoRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as PinoRecord);
}

function numbers(list: readonly PinoRecord[]): number[] {
  return list.map((record) => record.n);
}

function oneTo(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i + 1);
}

afterEach(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  children.clear();
  await killAllCollectors();
});

/** A scratch directory with one collector listening on `listen` in it, for `body`; removed after. */
async function withCollector(
  listen: string,
  body: (dir: { readonly path: string }, collector: CollectorProcess) => Promise<void>,
): Promise<void> {
  const dir = tempDir('lw-recipe-');
  try {
    await body(dir, await startCollector(['--listen', listen], { cwd: dir.path, listeners: 1 }));
  } finally {
    dir.remove();
  }
}

describe('examples/pino-tcp.mjs', () => {
  it('ships every record over TCP into logs/pino-tcp.log, once, in order', async () => {
    await withCollector('tcp/127.0.0.1:0', async (dir, collector) => {
      const run = await runExample(
        'pino-tcp.mjs',
        ['--address', collector.addresses[0]!, '--count', '25'],
        dir.path,
      );
      expect(run).toMatchObject({ code: 0 });
      const landed = records(join(dir.path, 'logs', 'pino-tcp.log'));
      expect(numbers(landed)).toEqual(oneTo(25));
      expect(landed[0]).toMatchObject({ name: 'pino-tcp', msg: 'order paid' });
      expect((await collector.stop()).code).toBe(0);
    });
  });
});

describe('examples/pino-targets.mjs', () => {
  it('writes every record both to the local file (pino/file) and to the collector', async () => {
    await withCollector('tcp/127.0.0.1:0', async (dir, collector) => {
      const local = join(dir.path, 'local', 'app.log');
      const run = await runExample(
        'pino-targets.mjs',
        ['--address', collector.addresses[0]!, '--file', local, '--count', '12'],
        dir.path,
      );
      expect(run).toMatchObject({ code: 0 });
      expect(numbers(records(local))).toEqual(oneTo(12));
      expect(numbers(records(join(dir.path, 'logs', 'pino-targets.log')))).toEqual(oneTo(12));
    });
  });
});

describe('examples/pino-websocket.mjs', () => {
  it('ships over a ws listener with a path', async () => {
    await withCollector('ws/127.0.0.1:0/logs', async (dir, collector) => {
      expect(collector.addresses[0]).toMatch(/^ws\/127\.0\.0\.1:\d+\/logs$/);
      const run = await runExample('pino-websocket.mjs', ['--address', collector.addresses[0]!], dir.path);
      expect(run).toMatchObject({ code: 0 });
      const landed = records(join(dir.path, 'logs', 'pino-websocket.log'));
      expect(numbers(landed)).toEqual(oneTo(10));
      expect(landed[0]).toMatchObject({ msg: 'over a websocket' });
    });
  });
});

describe('examples/threaded.mjs', () => {
  it('ships a tight loop from its own thread: all acknowledged by flush, all in the file', async () => {
    await withCollector('tcp/127.0.0.1:0', async (dir, collector) => {
      const run = await runExample(
        'threaded.mjs',
        ['--address', collector.addresses[0]!, '--count', '20000'],
        dir.path,
      );
      expect(run.code).toBe(0);
      expect(run.stderr).toContain('threaded: 20000 records acknowledged');
      expect(numbers(records(join(dir.path, 'logs', 'threaded.log')))).toEqual(oneTo(20000));
    });
  });
});

describe('examples/spool.mjs', () => {
  it('keeps what it logs while the collector is down and ships it after the restart, each record once', async () => {
    const dir = tempDir('lw-recipe-');
    try {
      // A Unix socket keeps its address across the collector's restart.
      const address = `unix/${join(dir.path, 'collector.sock')}`;
      const args = ['--address', address, '--spool', join(dir.path, 'spool'), '--count', '5'];
      const file = join(dir.path, 'logs', 'spool-demo.log');

      const first = await startCollector(['--listen', address], { cwd: dir.path, listeners: 1 });
      expect((await runExample('spool.mjs', args, dir.path)).code).toBe(0);
      expect(records(file)).toHaveLength(5);
      expect((await first.stop()).code).toBe(0);

      // No collector: the records stay in the spool when the app exits.
      const down = await runExample('spool.mjs', args, dir.path);
      expect(down.code).toBe(0);
      expect(down.stderr).toMatch(/5 records stay in spool/);
      expect(records(file)).toHaveLength(5);

      await startCollector(['--listen', address], { cwd: dir.path, listeners: 1 });
      expect((await runExample('spool.mjs', args, dir.path)).code).toBe(0);
      const landed = records(file);
      const runs = [...new Set(landed.map((record) => record.pid))];
      expect(runs).toHaveLength(3);
      for (const pid of runs) {
        expect(numbers(landed.filter((record) => record.pid === pid))).toEqual(oneTo(5));
      }
    } finally {
      dir.remove();
    }
  });
});

describe('examples/relay (README)', () => {
  it('an app ships to the relay A, which forwards to B: every record once in B, A spools nothing at the end', async () => {
    const dir = tempDir('lw-recipe-');
    try {
      const central = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', './central'], {
        cwd: dir.path,
        listeners: 1,
      });
      const relay = await startCollector(
        ['--listen', 'tcp/127.0.0.1:0', '--forward', central.addresses[0]!, '--state', './relay-state'],
        { cwd: dir.path, listeners: 1 },
      );
      const run = await runExample(
        'pino-tcp.mjs',
        ['--address', relay.addresses[0]!, '--count', '25'],
        dir.path,
      );
      expect(run).toMatchObject({ code: 0 });
      const file = join(dir.path, 'central', 'pino-tcp.log');
      await within(
        (async () => {
          while (!existsSync(file) || records(file).length < 25) await new Promise((r) => setImmediate(r));
        })(),
        'the records at B',
        15_000,
      );
      expect(numbers(records(file))).toEqual(oneTo(25));
      expect(records(file)[0]).toMatchObject({ name: 'pino-tcp', msg: 'order paid' });
      expect((await relay.stop()).code).toBe(0);
      expect((await central.stop()).code).toBe(0);
    } finally {
      dir.remove();
    }
  });
});
