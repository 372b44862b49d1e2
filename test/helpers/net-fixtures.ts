import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Link } from '../../shared/net/link.js';
import type { Messenger } from '../../shared/net/messenger.js';
import type { Message } from '../../shared/protocol/message.js';

/**
 * A loopback TCP port nothing listens on just now: for a peer that is down, or one a test
 * starts later (its `--listen` needs the port before it runs).
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** Waits for `promise`, failing the test with `what` after `ms` (a bound, not a timing assert). */
export function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits until `condition` holds, checking once per event-loop turn. */
export function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setImmediate(check);
    };
    check();
  });
}

/** Collects the links a listener hands over, in order. */
export class LinkInbox {
  readonly links: Link[] = [];
  readonly #waiters: ((link: Link) => void)[] = [];

  readonly onLink = (link: Link): void => {
    this.links.push(link);
    this.#waiters.shift()?.(link);
  };

  /** The n-th link (0-based), once it has arrived. */
  nth(n: number): Promise<Link> {
    const have = this.links[n];
    if (have !== undefined) return Promise.resolve(have);
    return within(
      new Promise<Link>((resolve) => {
        const wait = (): void => {
          const link = this.links[n];
          if (link !== undefined) resolve(link);
          else this.#waiters.push(wait);
        };
        this.#waiters.push(wait);
      }),
      `link #${n}`,
    );
  }
}

/** Records every message a messenger receives from now on; `count(n)` waits until n arrived. */
export function recordMessages(messenger: Messenger): {
  messages: Message[];
  count(n: number): Promise<Message[]>;
} {
  const messages: Message[] = [];
  const waiters = new Set<() => void>();
  messenger.on('message', (msg) => {
    messages.push(msg);
    for (const wake of waiters) wake();
  });
  return {
    messages,
    count: (n) =>
      within(
        new Promise<Message[]>((resolve) => {
          const check = (): void => {
            if (messages.length < n) return;
            waiters.delete(check);
            resolve(messages.slice(0, n));
          };
          waiters.add(check);
          check();
        }),
        `${n} message(s), have ${messages.length}`,
      ),
  };
}

/** The next `count` messages a messenger receives. */
export function nextMessages(messenger: Messenger, count: number): Promise<Message[]> {
  const got: Message[] = [];
  return within(
    new Promise<Message[]>((resolve) => {
      const on = (msg: Message): void => {
        got.push(msg);
        if (got.length === count) {
          messenger.off('message', on);
          resolve(got);
        }
      };
      messenger.on('message', on);
    }),
    `${count} message(s)`,
  );
}

/** Resolves with the error (or undefined) of the link's 'close'. */
export function closeOf(link: Link): Promise<Error | undefined> {
  return within(new Promise((resolve) => link.once('close', resolve)), `close of ${link.peer.remote}`);
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix = 'logwire-net-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A loopback TCP port that never answers: a child process listens with backlog 1 and then
 * blocks (Atomics.wait) so it never accepts; once the fillers sit in the accept queue, Linux
 * drops further SYNs, and a connect stays in SYN_SENT until its timeout.
 */
export async function unansweringPort(): Promise<{ port: number; stop: () => void }> {
  const script = `const s = require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
    process.stdout.write(s.address().port + '\\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  });`;
  const child: ChildProcess = spawn(process.execPath, ['-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await within(
    new Promise<number>((resolve) =>
      child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))),
    ),
    'the unanswering listener',
  );
  const { connect } = await import('node:net');
  const fillers: import('node:net').Socket[] = [];
  // Fill the accept queue until a connect gets no answer (2 on Linux for backlog 1).
  for (let i = 0; i < 8; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    fillers.push(socket);
    const answered = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!answered) break;
  }
  return {
    port,
    stop: () => {
      for (const socket of fillers) socket.destroy();
      child.kill('SIGKILL');
    },
  };
}
