/**
 * examples/logrotate/logwire, run by the real logrotate against a live collector, with only its
 * paths rewritten into a temp dir (the binary path to a wrapper around the built CLI, the port
 * to the collector's): the file is rotated, the postrotate `logwire signal LOG` is answered, and
 * records sent afterwards land in the new file.
 */

import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { getInteger } from '../../shared/protocol/accessors.js';
import { message } from '../../shared/protocol/message.js';
import { killAllCollectors, LOGWIRE_BIN, startCollector } from '../helpers/collector-process.js';
import { until } from '../helpers/net-fixtures.js';
import { RawClient } from '../helpers/raw-client.js';
import { numbersIn, recordsBody } from '../helpers/records.js';

const run = promisify(execFile);
const SNIPPET = resolve(import.meta.dirname, '..', '..', 'examples', 'logrotate', 'logwire');

let dir: string;
let client: RawClient | undefined;
afterEach(async () => {
  client?.close();
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

async function sendAndAck(c: RawClient, from: number, count: number): Promise<void> {
  c.send(message('EVENTS', { seq: from, count }, recordsBody(from, count)));
  await c.next((m) => m.command === 'ACK' && getInteger(m.params, 'seq') === from + count - 1);
}

it('rotates the output and the collector reopens: new records land in the new file', async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-rotate-example-'));
  const logs = join(dir, 'logs');
  const collector = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', logs], {
    cwd: dir,
    listeners: 1,
  });
  const port = collector.port('tcp');
  const bin = join(dir, 'logwire');
  await writeFile(bin, `#!/bin/sh\nexec "${process.execPath}" "${LOGWIRE_BIN}" "$@"\n`);
  await chmod(bin, 0o755);
  const group = (await run('id', ['-gn'])).stdout.trim();
  const snippet = await readFile(SNIPPET, 'utf8');
  expect(snippet).toMatch(/^\s*sharedscripts$/m);
  expect(snippet).not.toMatch(/^\s*[^#\s].*\bnpx\b/m);
  const conf = join(dir, 'logrotate.conf');
  await writeFile(
    conf,
    snippet
      .replaceAll('/var/log/logwire', logs)
      .replaceAll('/usr/local/bin/logwire', bin)
      .replaceAll('tcp/127.0.0.1:4043', `tcp/127.0.0.1:${port}`)
      .replace('create 0640 logwire logwire', `create 0640 ${userInfo().username} ${group}`),
  );

  client = await RawClient.connect({ port });
  client.send(message('REGISTER', { version: 1, source: 'rot-example', service: 'svc', host: 'h', next: 1 }));
  await client.next((m) => m.command === 'READY');
  await sendAndAck(client, 1, 100);

  await run('logrotate', ['-f', '-s', join(dir, 'logrotate.state'), conf]);
  await until(() => collector.stderr().includes('reopened output files'), 'the reopen after LOG');
  await sendAndAck(client, 101, 50);

  // delaycompress: the first rotated file stays plain.
  expect((await readdir(logs)).filter((name) => name.startsWith('svc.log')).sort()).toEqual([
    'svc.log',
    'svc.log.1',
  ]);
  expect(await numbersIn(join(logs, 'svc.log.1'))).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  expect(await numbersIn(join(logs, 'svc.log'))).toEqual(Array.from({ length: 50 }, (_, i) => i + 101));
});
