import { execFile } from 'node:child_process';
import { chmod, chown, lstat, readFile, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { LogwireError } from '../errors.js';

/** Mode of a listening Unix socket when none is configured: only its owner may connect. */
export const DEFAULT_UNIX_MODE = 0o600;

/** How long the stale-socket probe waits for an answer before calling the socket alive. */
const PROBE_TIMEOUT = 1000;

/**
 * Makes `path` free for a new listening socket. A socket file nobody answers on (a collector
 * that crashed) is removed; one that answers, or any other kind of file, is left alone and
 * refused with LW_ERR_LISTEN, so a second collector cannot steal the first one's socket.
 */
export async function claimUnixPath(path: string, where: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw listenError(where, `cannot look at ${path}: ${(err as Error).message}`, err);
  }
  if (!isSocket)
    throw listenError(where, `${path} exists and is not a socket; remove it or choose another path`);
  const answer = await probe(path);
  if (answer === 'connected') {
    throw listenError(where, `another process is listening on ${path} — is another collector running?`);
  }
  if (answer === 'silent') {
    throw listenError(where, `something holds ${path} and does not answer; stop it or remove the file`);
  }
  if (answer instanceof Error) {
    throw listenError(where, `cannot tell whether ${path} is in use: ${answer.message}`, answer);
  }
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw listenError(where, `cannot remove the stale socket ${path}: ${(err as Error).message}`, err);
    }
  }
}

/**
 * Runs `bind` (a synchronous server.listen(path) call: Node binds before it returns) with the
 * umask at 0177, so the socket file is born 0600 and nobody else can connect before chmod.
 * The umask is process-wide, but only for this synchronous call; a file the thread pool
 * creates in the same microseconds would come out more private, never less. Worker threads
 * cannot change the umask: there the socket is born with the process's umask and the chmod
 * that follows at once narrows it.
 */
export function bindPrivately<T>(bind: () => T): T {
  let previous: number | undefined;
  try {
    previous = process.umask(0o177);
  } catch {
    previous = undefined; // ERR_WORKER_UNSUPPORTED_OPERATION
  }
  try {
    return bind();
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
}

/** Gives the socket its configured mode and group (e.g. 0660 and `adm`: the group may connect). */
export async function setUnixPermissions(
  path: string,
  mode: number,
  gid: number | undefined,
  where: string,
): Promise<void> {
  try {
    if (gid !== undefined) await chown(path, -1, gid);
    await chmod(path, mode);
  } catch (err) {
    throw listenError(where, `cannot set the mode or group of ${path}: ${(err as Error).message}`, err);
  }
}

/** A group id from a number or a name (/etc/group, then `getent group` for NSS/LDAP groups). */
export async function resolveGroup(group: string | number, where: string): Promise<number> {
  if (typeof group === 'number') return group;
  if (/^\d+$/.test(group)) return Number(group);
  const fromFile = await readFile('/etc/group', 'utf8').then(
    (text) => findGid(text, group),
    () => undefined,
  );
  const gid = fromFile ?? (await getent(group));
  if (gid === undefined) throw listenError(where, `no group named "${group}" on this host`);
  return gid;
}

function findGid(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    const [groupName, , gid] = line.split(':');
    if (groupName === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

function getent(name: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('getent', ['group', name], { timeout: 5000 }, (err, stdout) => {
      resolve(err ? undefined : findGid(stdout, name));
    });
  });
}

type ProbeAnswer = 'connected' | 'refused' | 'silent' | Error;

function probe(path: string): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const done = (answer: ProbeAnswer): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done('silent'), PROBE_TIMEOUT);
    socket.once('connect', () => done('connected'));
    // ECONNREFUSED: a socket file without a listener; ENOENT: it went away meanwhile.
    socket.once('error', (err: NodeJS.ErrnoException) => {
      done(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'refused' : err);
    });
  });
}

function listenError(where: string, problem: string, cause?: unknown): LogwireError {
  return new LogwireError('LW_ERR_LISTEN', `${where}: ${problem}`, { cause });
}
