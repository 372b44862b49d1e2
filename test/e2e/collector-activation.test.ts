/**
 * Socket activation (issue #3): the collector takes its listener from a real inherited
 * descriptor, named through LISTEN_FDS / LISTEN_FDNAMES / LISTEN_PID as systemd passes them.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { message } from '../../shared/protocol/message.js';
import { killAllCollectors, startCollector } from '../helpers/collector-process.js';
import { RawClient } from '../helpers/raw-client.js';

let dir: string;
afterEach(async () => {
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

/** A listening socket whose descriptor a child can inherit (what systemd would hold). */
async function listeningSocket(): Promise<{ server: Server; fd: number; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // No public API gives a server's descriptor; systemd would pass its own.
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return { server, fd, port: address.port };
}

it.each([
  ['by name', 'tcp/systemd#web'],
  ['by index', 'tcp/systemd#0'],
])('listens on an inherited descriptor named %s', async (_how, listen) => {
  dir = await mkdtemp(join(tmpdir(), 'lw-activation-'));
  const { server, fd, port } = await listeningSocket();
  const collector = await startCollector(['--listen', listen, '--output', join(dir, 'logs')], {
    cwd: dir,
    listeners: 1,
    inherit: [fd],
    listenPid: true,
    env: { LISTEN_FDS: '1', LISTEN_FDNAMES: 'web' },
  });
  // The parent lets go of its copy: from now on only the collector accepts on it.
  server.close();
  expect(collector.addresses[0]).toBe(`tcp/127.0.0.1:${port}`);
  const client = await RawClient.connect({ port });
  client.send(message('ALIVE', { serial: 9 }));
  expect((await client.next((m) => m.command === 'ABSOLUTELY')).params.serial).toBe('9');
  client.close();
  expect((await collector.stop()).code).toBe(0);
});

it('refuses descriptors handed to another process (LISTEN_PID)', async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-activation-'));
  const { server, fd } = await listeningSocket();
  await expect(
    startCollector(['--listen', 'tcp/systemd#0', '--output', join(dir, 'logs')], {
      cwd: dir,
      listeners: 1,
      inherit: [fd],
      env: { LISTEN_FDS: '1', LISTEN_PID: '1' },
    }),
  ).rejects.toThrow(/exited \((1|2)\).*LISTEN_PID/s);
  server.close();
});
