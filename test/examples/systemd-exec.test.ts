/**
 * examples/systemd run for real, without systemd: the service's ExecStart (with the shipped
 * collector.toml, and the output and state paths moved to a temp dir) takes a TCP and a UDP
 * socket handed over as systemd would from the socket unit (fd 3 and 4, LISTEN_FDS=2,
 * FileDescriptorName=logwire, LISTEN_PID its own), and ExecReload's command is answered OK.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { message } from '../../shared/protocol/message.js';
import { killAllCollectors, LOGWIRE_BIN, startCollector } from '../helpers/collector-process.js';
import { RawClient } from '../helpers/raw-client.js';

const run = promisify(execFile);
const EXAMPLES = resolve(import.meta.dirname, '..', '..', 'examples');

/** Binds a TCP and a UDP socket on loopback, puts them at fd 3 and 4, then execs argv. */
const ACTIVATE = `
import os, socket, sys
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.bind(("127.0.0.1", 0)); tcp.listen(16)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
high = [os.dup(tcp.fileno()), os.dup(udp.fileno())]
for fd, target in zip(high, (3, 4)):
    os.dup2(fd, target)
    os.set_inheritable(target, True)
env = dict(os.environ, LISTEN_FDS="2", LISTEN_FDNAMES="logwire:logwire", LISTEN_PID=str(os.getpid()))
os.execve(sys.argv[1], sys.argv[1:], env)
`;

let dir: string;
afterEach(async () => {
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

it("runs the service's ExecStart on activated sockets, and its ExecReload is answered", async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-systemd-exec-'));
  const unit = await readFile(join(EXAMPLES, 'systemd', 'logwire-collector.service'), 'utf8');
  const command = (key: string): string[] =>
    new RegExp(`^${key}=(.*)$`, 'm').exec(unit)![1]!.trim().split(/\s+/);
  const start = command('ExecStart');
  expect(start.slice(0, 2)).toEqual(['/usr/local/bin/logwire', 'collector']);
  const args = start
    .slice(2)
    .map((arg) =>
      arg === '/etc/logwire/collector.toml'
        ? join(EXAMPLES, 'collector.toml')
        : arg === '/var/log/logwire'
          ? join(dir, 'log')
          : arg === '/var/lib/logwire'
            ? join(dir, 'lib')
            : arg,
    );
  const collector = await startCollector(args, { cwd: dir, listeners: 2, wrap: ['python3', '-c', ACTIVATE] });
  const tcp = collector.addresses.find((a) => a.startsWith('tcp/'));
  expect(collector.addresses.map((a) => a.split('/')[0]).sort()).toEqual(['tcp', 'udp']);

  const client = await RawClient.connect({ port: collector.port('tcp') });
  client.send(message('ALIVE', { serial: 1 }));
  await client.next((m) => m.command === 'ABSOLUTELY');
  client.close();

  const reload = command('ExecReload');
  expect(reload.slice(0, 2)).toEqual(['/usr/local/bin/logwire', 'signal']);
  const reloadArgs = reload.slice(1).map((arg) => (arg === 'tcp/127.0.0.1:4043' ? tcp! : arg));
  const { stderr } = await run(process.execPath, [LOGWIRE_BIN, ...reloadArgs, '--reply']);
  expect(stderr).toBe('');
  expect(collector.stderr()).toContain('configuration reloaded');
  expect((await collector.stop()).code).toBe(0);
});
