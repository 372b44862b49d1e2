/**
 * examples/dispatcher-pair: a server and clients driven only by messages (HI, DAD, CLIMB, TOP,
 * WHO, MOM, BYE), with the server's log reopened on LOG and the server stopped on QUIT, both
 * sent with the real `logwire signal`.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { LOGWIRE_BIN } from '../helpers/collector-process.js';
import { tempDir, until, within } from '../helpers/net-fixtures.js';

const EXAMPLE = resolve(import.meta.dirname, '..', '..', 'examples', 'dispatcher-pair');
const run = promisify(execFile);

interface Side {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

const children: ChildProcess[] = [];

function side(script: 'server.mjs' | 'client.mjs', args: readonly string[], cwd: string): Side {
  const child = spawn(process.execPath, [join(EXAMPLE, script), ...args], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stderr: () => err, exited };
}

function signal(host: string, command: string): Promise<{ stdout: string }> {
  return run(process.execPath, [LOGWIRE_BIN, 'signal', '--host', host, '--reply', command]);
}

/** Commands a side traced as received, in order. */
function traced(text: string): string[] {
  return [...text.matchAll(/^trace \S+ ([A-Z]+)$/gm)].map((m) => m[1]!);
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});

describe('examples/dispatcher-pair', () => {
  it('a client started first waits, talks the whole conversation when the server comes, and exits 0; QUIT stops the server', async () => {
    const dir = tempDir('logwire-pair-');
    try {
      const address = `unix/${join(dir.path, 'pair.sock')}`;
      const client = side('client.mjs', ['--address', address, '--trace'], dir.path);
      await until(() => client.stderr().includes('waiting for a server'), 'client waiting');
      const server = side('server.mjs', ['--address', address, '--trace'], dir.path);
      expect(await within(client.exited, 'client exit', 10_000)).toBe(0);
      expect(traced(client.stderr())).toEqual(['HI', 'CLIMB', 'WHO', 'BYE']);
      await until(() => traced(server.stderr()).length === 3, 'server trace');
      expect(traced(server.stderr())).toEqual(['DAD', 'TOP', 'MOM']);

      const { stdout } = await signal(address, 'QUIT');
      expect(stdout.trim()).toBe('OK command=QUIT');
      expect(await within(server.exited, 'server exit')).toBe(0);
    } finally {
      dir.remove();
    }
  });

  it('serves two clients at once on --port, reopens its log on LOG, stops on QUIT', async () => {
    const dir = tempDir('logwire-pair-');
    try {
      const server = side('server.mjs', ['--port', '0', '--log', 'server.log'], dir.path);
      await until(() => /^listening tcp\/127\.0\.0\.1:\d+$/m.test(server.stderr()), 'server listening');
      const port = /listening tcp\/127\.0\.0\.1:(\d+)/.exec(server.stderr())![1]!;
      const clients = [
        side('client.mjs', ['--port', port], dir.path),
        side('client.mjs', ['--port', port], dir.path),
      ];
      expect(await within(Promise.all(clients.map((c) => c.exited)), 'clients exit', 10_000)).toEqual([0, 0]);
      const logPath = join(dir.path, 'server.log');
      expect(readFileSync(logPath, 'utf8').match(/said MOM, answered BYE/g)).toHaveLength(2);

      // As logrotate would: move the file away, then ask the server to reopen by name.
      renameSync(logPath, join(dir.path, 'server.log.1'));
      const host = `tcp/127.0.0.1:${port}`;
      expect((await signal(host, 'LOG')).stdout.trim()).toBe('OK command=LOG');
      expect(existsSync(logPath)).toBe(true);
      expect(readFileSync(logPath, 'utf8')).toMatch(/log reopened/);

      expect((await signal(host, 'QUIT')).stdout.trim()).toBe('OK command=QUIT');
      expect(await within(server.exited, 'server exit')).toBe(0);
      expect(readFileSync(logPath, 'utf8')).toMatch(/stopping on QUIT/);
    } finally {
      dir.remove();
    }
  });
});
