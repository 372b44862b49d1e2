/**
 * Issue #5: the real logrotate, whose postrotate hook runs `logwire signal … LOG`, rotates the
 * output 10 times during a stream: every record appears once across the rotated files, and
 * no line is split.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { getInteger } from '../../shared/protocol/accessors.js';
import { message } from '../../shared/protocol/message.js';
import { killAllCollectors, LOGWIRE_BIN, startCollector } from '../helpers/collector-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { numbersIn, recordsBody } from '../helpers/records.js';

const run = promisify(execFile);
const TOTAL = 50_000;
const PER_BATCH = 250;
const ROTATIONS = 10;

let dir: string;
afterEach(async () => {
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

async function rotationRun(mode: 'create' | 'copytruncate'): Promise<void> {
  dir = await mkdtemp(join(tmpdir(), 'lw-rotate-'));
  const logs = join(dir, 'logs');
  const collector = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', logs], {
    cwd: dir,
    listeners: 1,
  });
  const port = collector.port('tcp');
  const conf = join(dir, 'logrotate.conf');
  await writeFile(
    conf,
    `${join(logs, 'svc.log')} {
  rotate 50
  ${mode === 'create' ? 'create 0640' : 'copytruncate'}
  missingok
  nocompress
  postrotate
    ${process.execPath} ${LOGWIRE_BIN} signal --host tcp/127.0.0.1:${port} LOG
  endscript
}
`,
  );
  const client = await RawClient.connect({ port });
  client.send(message('REGISTER', { version: 1, source: `rot-${mode}`, service: 'svc', host: 'h', next: 1 }));
  await client.next((m) => m.command === 'READY');

  let sent = 0;
  let acked = 0;
  let rotations = 0;
  const rotateEvery = TOTAL / (ROTATIONS + 1);
  while (acked < TOTAL) {
    // copytruncate loses what is written between its copy and its truncate (logrotate's own
    // documented window): there, rotate only while nothing is in flight.
    const window =
      mode === 'copytruncate' && acked >= (rotations + 1) * rotateEvery && rotations < ROTATIONS ? 0 : 8;
    while (sent < TOTAL && sent - acked < window * PER_BATCH) {
      client.send(message('EVENTS', { seq: sent + 1, count: PER_BATCH }, recordsBody(sent + 1, PER_BATCH)));
      sent += PER_BATCH;
    }
    if (sent > acked) {
      await client.next((m) => m.command === 'ACK' && getInteger(m.params, 'seq') > acked);
      for (const m of client.received.splice(0))
        if (m.command === 'ACK') acked = Math.max(acked, getInteger(m.params, 'seq'));
    }
    if (
      rotations < ROTATIONS &&
      acked >= (rotations + 1) * rotateEvery &&
      (mode === 'create' || acked === sent)
    ) {
      await run('logrotate', ['-f', '-s', join(dir, 'logrotate.state'), conf]);
      rotations += 1;
    }
  }
  client.close();
  expect(rotations).toBe(ROTATIONS);
  expect((await collector.stop()).code).toBe(0);

  const files = (await readdir(logs)).filter((name) => name.startsWith('svc.log'));
  expect(files.length).toBe(ROTATIONS + 1);
  const seen = new Map<number, number>();
  for (const file of files) {
    // numbersIn parses every line as JSON: a split line fails here.
    for (const n of await numbersIn(join(logs, file))) seen.set(n, (seen.get(n) ?? 0) + 1);
  }
  expect(seen.size).toBe(TOTAL);
  expect([...seen.values()].every((times) => times === 1)).toBe(true);
}

describe('rotation with the real logrotate', () => {
  it('create mode: every record once across 10 rotations, none split', () => rotationRun('create'), 120_000);
  it(
    'copytruncate mode: every record once across 10 rotations, none split',
    () => rotationRun('copytruncate'),
    120_000,
  );
});
