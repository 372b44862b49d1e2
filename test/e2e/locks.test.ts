/**
 * The locks on a collector's state directory and an appender's spool are held by a live
 * process and released by the kernel when it dies: a second taker is refused (told who holds
 * it) while the first lives, in any PID namespace, and takes it at once after a SIGKILL.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CollectorProcess, killAllCollectors, startCollector } from '../helpers/collector-process.js';
import { holdSpoolLock, killAllLockHolders, killHard, pidNamespaceWrap } from '../helpers/lock-holder.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-locks-'));
});

afterEach(async () => {
  await killAllCollectors();
  await killAllLockHolders();
  await rm(dir, { recursive: true, force: true });
});

const namespaces = pidNamespaceWrap();

function collector(wrap?: readonly string[]): Promise<CollectorProcess> {
  const args = ['--listen', 'tcp/127.0.0.1:0', '--output', join(dir, 'logs'), '--state', join(dir, 'state')];
  return startCollector(args, { cwd: dir, listeners: 1, ...(wrap === undefined ? {} : { wrap }) });
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid as number;
}

describe('the state directory lock', () => {
  it('refuses a second collector while the first lives, naming the holder and the lock', async () => {
    const first = await collector();
    await expect(collector()).rejects.toThrow(
      new RegExp(
        `in use by process ${first.child.pid} on host \\S+ \\(lock ${join(dir, 'state', 'lock')}\\)`,
      ),
    );
    expect(first.child.exitCode).toBeNull();
  });

  it('is taken at once by a second collector after the first is killed with SIGKILL', async () => {
    const first = await collector();
    await first.stop('SIGKILL');
    const second = await collector();
    expect(second.addresses).toHaveLength(1);
  });

  it('is not blocked by a pid lock file, naming a dead process or a live unrelated one', async () => {
    await mkdir(join(dir, 'state'), { recursive: true });
    await writeFile(join(dir, 'state', 'lock'), `${await deadPid()} 0123456789abcdef\n`);
    await (await collector()).stop();
    // A reused pid: the number now belongs to a live process that is no collector.
    await writeFile(join(dir, 'state', 'lock'), `${process.pid} 0123456789abcdef\n`);
    expect((await (await collector()).stop()).code).toBe(0);
  });

  it.skipIf(namespaces.wrap === undefined)(
    `refuses a second collector in another PID namespace (both pid 1)${namespaces.reason ? ` — skipped: ${namespaces.reason}` : ''}`,
    async () => {
      await collector(namespaces.wrap);
      await expect(collector(namespaces.wrap)).rejects.toThrow(
        /in use by process 1 on host \S+ \(lock .*state\/lock\)/,
      );
    },
  );
});

describe('the spool lock', () => {
  it('refuses a second process while the first lives, naming the holder; taken at once after SIGKILL', async () => {
    const spool = join(dir, 'spool');
    await mkdir(spool);
    const first = await holdSpoolLock(spool);
    expect(first.outcome).toBe('held');
    const second = await holdSpoolLock(spool);
    expect(second.outcome).toContain(
      `refused LW_ERR_SPOOL spool ${spool} is held by another process (pid ${first.child.pid} on host `,
    );
    expect(second.outcome).toContain(`lock ${join(spool, 'lock')}`);
    await killHard(first.child);
    expect((await holdSpoolLock(spool)).outcome).toBe('held');
  });

  it('is not blocked by a pid lock file naming a live unrelated process', async () => {
    const spool = join(dir, 'spool');
    await mkdir(spool);
    await writeFile(join(spool, 'lock'), `${process.pid} 0123456789abcdef\n`);
    expect((await holdSpoolLock(spool)).outcome).toBe('held');
  });

  it.skipIf(namespaces.wrap === undefined)(
    `refuses a second process in another PID namespace (both pid 1)${namespaces.reason ? ` — skipped: ${namespaces.reason}` : ''}`,
    async () => {
      const spool = join(dir, 'spool');
      await mkdir(spool);
      expect((await holdSpoolLock(spool, namespaces.wrap)).outcome).toBe('held');
      expect((await holdSpoolLock(spool, namespaces.wrap)).outcome).toMatch(
        /^refused LW_ERR_SPOOL .*held by another process \(pid 1 on host/,
      );
    },
  );
});
