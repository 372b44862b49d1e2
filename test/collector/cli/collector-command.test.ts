import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CollectorDeps, runCollector } from '../../../collector/cli/collector-command.js';
import { packageVersion } from '../../../collector/cli/version.js';
import type { Collector, CollectorConfig } from '../../../collector/config/config-types.js';
import { LogwireError } from '../../../shared/errors.js';

// The daemon itself is the e2e suites' business: here every test injects its own start.
vi.mock('../../../collector/collector.js', () => ({ startCollector: vi.fn() }));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logwire-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

class FakeCollector implements Collector {
  readonly addresses = ['tcp/127.0.0.1:39811', 'udp/127.0.0.1:39812'];
  readonly calls: string[] = [];
  readonly done: Promise<void>;
  finish!: () => void;
  stopGate: Promise<void> = Promise.resolve();

  constructor() {
    this.done = new Promise((resolve) => {
      this.finish = resolve;
    });
  }
  async stop(reason: string): Promise<void> {
    this.calls.push(`stop ${reason}`);
    await this.stopGate;
    this.finish();
  }
  async reopen(): Promise<void> {
    this.calls.push('reopen');
  }
  status() {
    return {};
  }
}

function harness(start: CollectorDeps['start']) {
  let text = '';
  const stderr = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  const signals = new EventEmitter();
  const exits: number[] = [];
  const deps = {
    start,
    stderr,
    signals: signals as unknown as CollectorDeps['signals'],
    exit: (code: number) => exits.push(code),
    cwd: dir,
  } satisfies CollectorDeps;
  return { deps, signals, exits, stderr: () => text };
}

describe('runCollector', () => {
  it('exits 1 with the message on a bad configuration', async () => {
    const h = harness(async () => {
      throw new Error('must not start');
    });
    const code = await runCollector({ listen: ['tls/127.0.0.1'] }, h.deps);
    expect(code).toBe(1);
    expect(h.stderr()).toMatch(
      /^logwire collector: --listen: address "tls\/127\.0\.0\.1": a tls address needs a port/,
    );
  });

  it('exits 1 naming --output or --state when that directory cannot be created or written', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, '');
    const start = async () => {
      throw new Error('must not start');
    };
    const output = harness(start);
    expect(await runCollector({ output: join(file, 'logs') }, output.deps)).toBe(1);
    expect(output.stderr()).toMatch(
      new RegExp(`^logwire collector: --output ${file}/logs: cannot create or write this directory: ENOTDIR`),
    );
    const state = harness(start);
    expect(await runCollector({ output: 'fine', state: join(file, 'state') }, state.deps)).toBe(1);
    expect(state.stderr()).toMatch(
      new RegExp(`^logwire collector: --state ${file}/state: cannot create or write this directory: ENOTDIR`),
    );
    await writeFile(join(dir, 'c.toml'), `output = "${file}"\n`);
    const fromConfig = harness(start);
    expect(await runCollector({ config: 'c.toml' }, fromConfig.deps)).toBe(1);
    expect(fromConfig.stderr()).toContain(`--output (or output in c.toml) ${file}: cannot create or write`);
    // procfs refuses a new directory in a way that makes Node's recursive mkdir spin for ever.
    const proc = harness(start);
    expect(await runCollector({ output: '/proc/logwire-test' }, proc.deps)).toBe(1);
    expect(proc.stderr()).toMatch(
      /^logwire collector: --output \/proc\/logwire-test: cannot create or write/,
    );
  });

  it('exits 2 when a listener cannot be bound, 1 for other start errors', async () => {
    const busy = harness(async () => {
      throw new LogwireError('LW_ERR_LISTEN', 'listen tcp/127.0.0.1:4043: address in use');
    });
    expect(await runCollector({ output: 'o' }, busy.deps)).toBe(2);
    expect(busy.stderr()).toContain('address in use');
    const broken = harness(async () => {
      throw new LogwireError('LW_ERR_STATE_LOCKED', 'locked');
    });
    expect(await runCollector({ output: 'o' }, broken.deps)).toBe(1);
  });

  it('passes the loaded config and a reload, prints the bound addresses, drains on SIGTERM', async () => {
    const collector = new FakeCollector();
    let seen: CollectorConfig | undefined;
    let reload: (() => Promise<CollectorConfig>) | undefined;
    const h = harness(async (config, options) => {
      seen = config;
      reload = options.reload;
      return collector;
    });
    const running = runCollector({ listen: ['tcp/127.0.0.1:0'], output: 'out', trace: true }, h.deps);
    await expect.poll(() => h.stderr()).toContain('listening udp/127.0.0.1:39812\n');
    expect(h.stderr()).toBe(
      `logwire ${packageVersion()} output=${join(dir, 'out')} state=${join(dir, 'out', '.state')}\n` +
        'listening tcp/127.0.0.1:39811\nlistening udp/127.0.0.1:39812\n',
    );
    expect(seen?.output).toBe(join(dir, 'out'));
    expect(seen?.trace).toBe(true);
    expect((await reload?.())?.output).toBe(join(dir, 'out'));

    h.signals.emit('SIGHUP', 'SIGHUP');
    h.signals.emit('SIGUSR1', 'SIGUSR1');
    h.signals.emit('SIGTERM', 'SIGTERM');
    expect(await running).toBe(0);
    expect(collector.calls).toEqual(['reopen', 'reopen', 'stop SIGTERM']);
    expect(h.exits).toEqual([]);
    expect(h.signals.eventNames()).toEqual([]);
  });

  it('exits 1 at once on a second SIGINT while draining', async () => {
    const collector = new FakeCollector();
    let release!: () => void;
    collector.stopGate = new Promise((resolve) => {
      release = resolve;
    });
    const h = harness(async () => collector);
    const running = runCollector({ output: 'o' }, h.deps);
    await expect.poll(() => h.signals.listenerCount('SIGINT')).toBe(1);
    h.signals.emit('SIGINT', 'SIGINT');
    h.signals.emit('SIGINT', 'SIGINT');
    expect(h.exits).toEqual([1]);
    release();
    await running;
  });

  it('exits 0 when the collector stops by itself (STOP, QUIT)', async () => {
    const collector = new FakeCollector();
    const h = harness(async () => collector);
    const running = runCollector({ output: 'o' }, h.deps);
    await expect.poll(() => h.signals.listenerCount('SIGTERM')).toBe(1);
    collector.finish();
    expect(await running).toBe(0);
    expect(collector.calls).toEqual([]);
  });
});
