/**
 * Spawns the real `logwire collector` CLI from the packed install (test/global-setup.ts), and
 * reads the ports it bound from its `listening …` lines (INTERFACES.md).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PACKED_BIN = join(
  ROOT,
  '.tmp',
  'packed-app',
  'node_modules',
  'logwire',
  'dist',
  'collector',
  'cli',
  'main.js',
);
const BUILT_BIN = join(ROOT, 'dist', 'collector', 'cli', 'main.js');

/** The CLI as users get it: from the packed install when present, else the build. */
export const LOGWIRE_BIN = existsSync(PACKED_BIN) ? PACKED_BIN : BUILT_BIN;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface CollectorProcess {
  readonly child: ChildProcess;
  /** Bound addresses as printed, e.g. `tcp/127.0.0.1:39811`. */
  readonly addresses: string[];
  readonly stderr: () => string;
  readonly exited: Promise<Exit>;
  /** Port of the first address with that scheme. */
  port(scheme: string): number;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

const running = new Set<ChildProcess>();

/** Kills every collector still running (call in afterEach/afterAll). */
export async function killAllCollectors(): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }),
  );
  running.clear();
}

export async function startCollector(
  args: readonly string[],
  options: {
    cwd: string;
    listeners: number;
    timeoutMs?: number;
    env?: NodeJS.ProcessEnv;
    /** Descriptors the child inherits as fd 3, 4, … (socket activation). */
    inherit?: readonly number[];
    /** Run through `sh -c 'LISTEN_PID=$$ exec …'`, so LISTEN_PID is the collector's own pid. */
    listenPid?: boolean;
    /** A command the collector runs under, e.g. `unshare --pid --fork …` (not with listenPid). */
    wrap?: readonly string[];
  },
): Promise<CollectorProcess> {
  const argv = [LOGWIRE_BIN, 'collector', ...args];
  const stdio = ['ignore', 'ignore', 'pipe', ...(options.inherit ?? [])] as const;
  const child = options.listenPid
    ? spawn('/bin/sh', ['-c', 'LISTEN_PID=$$ exec "$0" "$@"', process.execPath, ...argv], {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        stdio: [...stdio],
      })
    : options.wrap !== undefined && options.wrap.length > 0
      ? spawn(options.wrap[0]!, [...options.wrap.slice(1), process.execPath, ...argv], {
          cwd: options.cwd,
          env: { ...process.env, ...options.env },
          stdio: [...stdio],
        })
      : spawn(process.execPath, argv, {
          cwd: options.cwd,
          env: { ...process.env, ...options.env },
          stdio: [...stdio],
        });
  running.add(child);
  let err = '';
  const addresses: string[] = [];
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`collector did not report ${options.listeners} listener(s):\n${err}`)),
      options.timeoutMs ?? 15_000,
    );
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      err += chunk;
      for (const match of chunk.matchAll(/^listening (\S+)$/gm)) addresses.push(match[1]!);
      if (addresses.length >= options.listeners) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`collector exited (${exit.code ?? exit.signal}) before listening:\n${err}`));
    });
  });
  return {
    child,
    addresses,
    stderr: () => err,
    exited,
    port(scheme) {
      const address = addresses.find((a) => a.startsWith(`${scheme}/`));
      if (address === undefined) throw new Error(`no ${scheme} listener in ${addresses.join(', ')}`);
      return Number(address.slice(address.lastIndexOf(':') + 1).split('/')[0]);
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
