/**
 * A process that takes an appender's spool lock with the built code (SpoolLock, as the appender
 * does) and holds it until killed; optionally in PID namespaces of its own (`wrap`).
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PACKED = join(ROOT, '.tmp', 'packed-app', 'node_modules', 'logwire', 'dist');
const DIST = existsSync(PACKED) ? PACKED : join(ROOT, 'dist');
const SPOOL_LOCK = pathToFileURL(join(DIST, 'shared', 'sender', 'spool-lock.js')).href;

const SCRIPT = `
const { SpoolLock } = await import(${JSON.stringify(SPOOL_LOCK)});
try {
  await SpoolLock.acquire(process.argv[1]);
  console.log('held');
  setInterval(() => {}, 60_000);
} catch (error) {
  console.log('refused ' + error.code + ' ' + error.message);
  process.exit(3);
}
`;

export interface LockHolderProcess {
  readonly child: ChildProcess;
  /** 'held', or 'refused CODE message'. */
  readonly outcome: string;
}

const running = new Set<ChildProcess>();

/** Starts a holder on `dir`; resolves with what it printed first. */
export async function holdSpoolLock(dir: string, wrap: readonly string[] = []): Promise<LockHolderProcess> {
  const command = [...wrap, process.execPath, '--input-type=module', '-e', SCRIPT, dir];
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.stdout!.setEncoding('utf8');
  let out = '';
  const line = new Promise<string>((resolveLine, reject) => {
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolveLine(out.slice(0, out.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`lock holder exited (${code}) saying: ${out}`)));
  });
  return { child, outcome: await line };
}

/** SIGKILLs a holder (or anything) and waits for it to be gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

export async function killAllLockHolders(): Promise<void> {
  await Promise.all([...running].map(killHard));
}

/** `unshare` with a PID namespace of its own, or why it cannot be used here. */
export function pidNamespaceWrap(): { readonly wrap?: readonly string[]; readonly reason?: string } {
  const wrap = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];
  try {
    const pid = execFileSync(wrap[0]!, [...wrap.slice(1), 'sh', '-c', 'echo $$'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    if (pid !== '1') return { reason: `unshare ran, but not as pid 1 (${pid})` };
    return { wrap };
  } catch (error) {
    return {
      reason: `unshare --pid --fork --mount-proc is not permitted here: ${String(error).split('\n')[0]}`,
    };
  }
}
