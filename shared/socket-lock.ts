import { randomBytes } from 'node:crypto';
import { type FileHandle, link, lstat, open, rename, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ignoreMissing } from './durable-file.js';
import { errorCode, LogwireError } from './errors.js';

export const LOCK_FILE = 'lock';

/**
 * An exclusive lock on a directory (the collector's state directory, an appender's spool),
 * held by a live process and released by the kernel when it dies.
 *
 * Why a Unix socket and not a pid file or flock: a pid names a process only within one PID
 * namespace (two containers sharing a volume are both pid 1) and can be reused after a crash;
 * flock needs a native module (node-gyp or prebuilt binaries) in every app that loads the
 * appender. A listening socket bound in the directory is answered only while its holder lives:
 * the kernel closes it when the process dies however it dies, and any process on the machine,
 * in any PID namespace, reaches it through the file system. So `lock` is a socket:
 *
 *   bind a socket at a private name, link it to `lock` (link fails if `lock` exists)
 *     └─ EEXIST: connect to `lock` ─ connected ─▶ held (the holder says who it is)
 *                                 └─ refused (dead holder, or an old pid file) ─▶ set it aside, retry
 *
 * A stale `lock` is renamed aside and checked to be the same file (inode) before it is removed,
 * so a taker never deletes the lock another taker has just made. It covers processes on one
 * machine: a socket is not shared across hosts through a network file system.
 */

/** Who holds a lock, as it reports itself through the socket. */
export interface LockHolder {
  /** Its pid in its own PID namespace; undefined when it did not answer in time. */
  readonly pid: number | undefined;
  readonly host: string | undefined;
  /** This very process holds it. */
  readonly ours: boolean;
}

export interface SocketLockOptions {
  /** The error when a live process holds the lock. */
  readonly held: (holder: LockHolder, path: string) => LogwireError;
  /** The error for anything else that went wrong (I/O), or a lock that kept changing hands. */
  readonly failed: (error: unknown) => LogwireError;
}

const ATTEMPTS = 5;
/** How long a connected probe waits for the holder to say who it is (a stopped holder never does). */
const ANSWER_WAIT_MS = 1000;
/** sun_path holds 108 bytes on Linux, 104 elsewhere, NUL included; longer paths go through the dir's fd. */
const SUN_PATH_MAX = 103;

/** Tokens of the locks this thread holds: a holder answering with one of them is us. */
const HELD = new Set<string>();

type Probe = { readonly kind: 'held'; readonly holder: LockHolder } | { readonly kind: 'stale' | 'gone' };

export class SocketLock {
  readonly path: string;
  readonly #token: string;
  readonly #server: Server;
  readonly #dir: FileHandle;
  readonly #ino: bigint;

  private constructor(path: string, token: string, server: Server, dir: FileHandle, ino: bigint) {
    this.path = path;
    this.#token = token;
    this.#server = server;
    this.#dir = dir;
    this.#ino = ino;
  }

  /** Takes the lock on `dir` (which must exist). */
  static async acquire(dir: string, options: SocketLockOptions): Promise<SocketLock> {
    const path = join(dir, LOCK_FILE);
    const token = randomBytes(8).toString('hex');
    const draft = `${LOCK_FILE}.${token}`;
    let handle: FileHandle;
    let server: Server;
    try {
      handle = await open(dir, 'r');
    } catch (error) {
      throw options.failed(error);
    }
    try {
      server = await answerAt(socketAddress(handle, dir, draft), token);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw options.failed(error);
    }
    try {
      const ino = await take(path, join(dir, draft), socketAddress(handle, dir, LOCK_FILE), token, options);
      HELD.add(token);
      return new SocketLock(path, token, server, handle, ino);
    } catch (error) {
      await closeServer(server);
      await handle.close().catch(() => undefined);
      throw error;
    } finally {
      await unlink(join(dir, draft)).catch(ignoreMissing);
    }
  }

  /** Removes the lock if it is still ours, and stops answering. */
  async release(): Promise<void> {
    if (!HELD.delete(this.#token)) return;
    const current = await lstat(this.path, { bigint: true }).catch(() => undefined);
    if (current?.ino === this.#ino) await unlink(this.path).catch(ignoreMissing);
    await closeServer(this.#server);
    await this.#dir.close().catch(() => undefined);
  }
}

/** Links the bound draft to `path`; judges and sets aside a stale lock. Returns the lock's inode. */
async function take(
  path: string,
  draft: string,
  address: string,
  token: string,
  options: SocketLockOptions,
): Promise<bigint> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      await link(draft, path);
      return (await lstat(draft, { bigint: true })).ino;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw options.failed(error);
    }
    try {
      const judged = await lstat(path, { bigint: true }).catch((error: unknown) => {
        if (errorCode(error) === 'ENOENT') return undefined;
        throw error;
      });
      if (judged === undefined) continue; // released meanwhile
      const probe = await probeHolder(address);
      if (probe.kind === 'held') throw options.held(probe.holder, path);
      if (probe.kind === 'stale') await setAside(path, judged.ino, token);
    } catch (error) {
      throw error instanceof LogwireError ? error : options.failed(error);
    }
  }
  throw options.failed(new Error(`the lock ${path} kept changing hands; try again`));
}

/** Binds `address` and answers every connection with `<pid> <host> <token>`. */
function answerAt(address: string, token: string): Promise<Server> {
  const server = createServer((socket) => {
    socket.unref();
    socket.on('error', () => undefined);
    socket.end(`${process.pid} ${hostname()} ${token}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address, () => {
      server.off('error', reject);
      // The lock never keeps the process alive (the appender's app must be able to exit).
      server.unref();
      resolve(server);
    });
  });
}

/** Connects to the lock: answered or accepted means a live holder; refused means none. */
function probeHolder(address: string): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(address);
    let text = '';
    let connected = false;
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ kind: 'held', holder: parseHolder(text) });
    };
    const timer = setTimeout(finish, ANSWER_WAIT_MS);
    timer.unref();
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
    });
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n') || text.length > 512) finish();
    });
    socket.on('end', finish);
    socket.on('error', (error) => {
      if (connected) return finish();
      clearTimeout(timer);
      const code = errorCode(error);
      // ECONNREFUSED: a socket nobody listens on, or a file that is no socket (an old pid lock).
      if (code === 'ECONNREFUSED') resolve({ kind: 'stale' });
      else if (code === 'ENOENT') resolve({ kind: 'gone' });
      // A full accept queue: someone listens.
      else if (code === 'EAGAIN') resolve({ kind: 'held', holder: parseHolder('') });
      else reject(error);
    });
  });
}

function parseHolder(text: string): LockHolder {
  const match = /^(\d+) (\S+) ([0-9a-f]+)\n/.exec(text);
  if (match === null) return { pid: undefined, host: undefined, ours: false };
  return { pid: Number(match[1]), host: match[2], ours: HELD.has(match[3] as string) };
}

/** Moves a stale lock aside; if what moved is not the file judged stale, puts it back. */
async function setAside(path: string, judged: bigint, token: string): Promise<void> {
  const aside = `${path}.stale.${token}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  const moved = await lstat(aside, { bigint: true });
  if (moved.ino !== judged) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(ignoreMissing);
}

/** The address to bind or connect `name` in the directory, short enough for sun_path. */
function socketAddress(dir: FileHandle, dirPath: string, name: string): string {
  const direct = join(dirPath, name);
  if (Buffer.byteLength(direct) <= SUN_PATH_MAX) return direct;
  // Linux resolves /proc/self/fd/N to the open directory, whatever the length of its path.
  return `/proc/self/fd/${dir.fd}/${name}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
