import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { startCollector } from '../../collector/collector.js';
import { loadConfig } from '../../collector/config/config.js';
import type { Collector, CollectorConfig, CollectorLog } from '../../collector/config/config-types.js';
import { RawClient } from './raw-client.js';

export type Writev = (handle: FileHandle, chunks: Buffer[]) => Promise<number>;

const quiet: CollectorLog = { info() {}, warn() {}, error() {}, trace() {} };

/** One in-process collector per test, with its seams; see `inProcessCollector`. */
export interface InProcessCollector {
  /** This test's directory: the collector writes to `<dir>/logs`. */
  readonly dir: string;
  /** The running collector (after `start`). */
  readonly collector: Collector;
  /** Starts it on `listen` (default one tcp listener on an ephemeral port); resolves to the ports. */
  start(overrides?: Partial<CollectorConfig>, writev?: Writev, listen?: string[]): Promise<number[]>;
  /** A raw client connected to `port`, closed after the test. */
  client(port: number): Promise<RawClient>;
}

/**
 * Registers the hooks that give each test a fresh directory and close its clients and collector
 * afterwards (a failure to stop fails the test unless `ignoreStopErrors`). Call once at the top
 * of a test file.
 */
export function inProcessCollector(
  prefix: string,
  options: { readonly ignoreStopErrors?: boolean } = {},
): InProcessCollector {
  let dir: string | undefined;
  let collector: Collector | undefined;
  const clients: RawClient[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    const stopping = collector?.stop('test');
    // Tests that break the collector on purpose may leave it unable to stop cleanly.
    await (options.ignoreStopErrors ? stopping?.catch(() => {}) : stopping);
    collector = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const state = {
    get dir(): string {
      if (dir === undefined) throw new Error('inProcessCollector: no test is running');
      return dir;
    },
    get collector(): Collector {
      if (collector === undefined) throw new Error('inProcessCollector: start() first');
      return collector;
    },
    async start(overrides: Partial<CollectorConfig> = {}, writev?: Writev, listen = ['tcp/127.0.0.1:0']) {
      const config = await loadConfig({ flags: { listen, output: join(state.dir, 'logs') } }, state.dir);
      collector = await startCollector(
        { ...config, ...overrides },
        { log: quiet, ...(writev ? { writev } : {}) },
      );
      return collector.addresses.map((a) => Number(a.split(':').pop()));
    },
    async client(port: number): Promise<RawClient> {
      const c = await RawClient.connect({ port });
      clients.push(c);
      return c;
    },
  };
  return state;
}
