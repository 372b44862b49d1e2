import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LogwireError } from '../../../shared/errors.js';
import { connectLink } from '../../../shared/net/connect.js';
import { type Listener, type ListenOptions, listen } from '../../../shared/net/listener.js';
import { bindPrivately, resolveGroup } from '../../../shared/net/unix-socket.js';
import { parseAddress } from '../../../shared/protocol/address.js';
import { closeOf, tempDir } from '../../helpers/net-fixtures.js';

const dir = tempDir('logwire-unix-');
let n = 0;
const socketPath = (): string => join(dir.path, `s${++n}.sock`);

/** A group other than root's to hand the socket to: `adm` on Debian, else the first non-root one. */
const GROUP = pickGroup();
/** chown to a group one is not a member of needs root. */
const ROOT = process.getuid?.() === 0;

function pickGroup(): string {
  const groups = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f[0] && f[2] !== undefined && f[2] !== '0')
    .map((f) => f[0]!);
  return groups.includes('adm') ? 'adm' : (groups[0] ?? 'adm');
}

function listenServer(path: string): Promise<Server> {
  const server = createServer((s) => s.destroy());
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

async function rejection(promise: Promise<unknown>): Promise<LogwireError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LogwireError);
  return err as LogwireError;
}

describe('unix socket listeners', () => {
  const listeners: Listener[] = [];
  const servers: Server[] = [];

  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((l) => l.close()));
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  afterAll(() => dir.remove());

  async function start(path: string, options: ListenOptions = {}): Promise<Listener> {
    const listener = await listen(parseAddress(`unix/${path}`), options, (link) => link.on('data', () => {}));
    listeners.push(listener);
    return listener;
  }

  describe('mode and group', () => {
    it('is 0600 by default', async () => {
      const path = socketPath();
      await start(path);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    });

    it.skipIf(!ROOT)(`takes the configured mode (0660) and group (${GROUP})`, async () => {
      const gid = await resolveGroup(GROUP, 'test');
      expect(gid).not.toBe(0);
      const path = socketPath();
      const listener = await start(path, { unix: { mode: 0o660, group: GROUP } });
      const stat = statSync(path);
      expect(stat.mode & 0o777).toBe(0o660);
      expect(stat.gid).toBe(gid);
      expect(listener.address).toEqual({ scheme: 'unix', path });
    });

    it.skipIf(!ROOT)('takes a numeric group id', async () => {
      const gid = await resolveGroup(GROUP, 'test');
      const path = socketPath();
      await start(path, { unix: { group: gid } });
      expect(statSync(path).gid).toBe(gid);
    });

    it('refuses a group that does not exist', async () => {
      const err = await rejection(start(socketPath(), { unix: { group: 'no-such-group-here' } }));
      expect(err.code).toBe('LW_ERR_LISTEN');
      expect(err.message).toContain('no group named "no-such-group-here"');
    });

    it('is born 0600: the mode is private inside the bind, before any chmod', async () => {
      const path = socketPath();
      const server = createServer();
      servers.push(server);
      const mode = bindPrivately(() => {
        server.listen(path);
        return statSync(path).mode & 0o777;
      });
      expect(mode).toBe(0o600);
    });
  });

  describe('an existing socket file', () => {
    it('is replaced when nothing answers on it (a stale socket)', async () => {
      const path = socketPath();
      // A socket file without a listener: move a live one aside, then close its server.
      const other = await listenServer(`${path}.tmp`);
      renameSync(`${path}.tmp`, path);
      await new Promise((resolve) => other.close(resolve));
      expect(existsSync(path)).toBe(true);

      const listener = await start(path);
      const link = await connectLink(listener.address);
      expect(link.peer).toMatchObject({ transport: 'unix', remote: path, local: true });
      link.close();
      await closeOf(link);
    });

    it('is left alone when another process listens on it', async () => {
      const path = socketPath();
      servers.push(await listenServer(path));
      const err = await rejection(start(path));
      expect(err.code).toBe('LW_ERR_LISTEN');
      expect(err.message).toBe(
        `listen unix/${path}: another process is listening on ${path} — is another collector running?`,
      );
      expect(existsSync(path)).toBe(true);
    });

    it('is left alone when it is not a socket', async () => {
      const path = socketPath();
      writeFileSync(path, 'data');
      const err = await rejection(start(path));
      expect(err.message).toContain('exists and is not a socket');
    });
  });

  it('is removed when the listener closes', async () => {
    const path = socketPath();
    const listener = await start(path);
    await listener.close();
    expect(existsSync(path)).toBe(false);
  });
});
