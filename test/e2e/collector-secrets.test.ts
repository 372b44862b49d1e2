/**
 * Secrets never stored: a REGISTER sent by mistake to an ndjson listener lands in
 * `_rejected.log` with its token masked, and `--trace` never shows one either.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { message } from '../../shared/protocol/message.js';
import { killAllCollectors, startCollector } from '../helpers/collector-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventually } from '../helpers/records.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-secrets-'));
});

afterEach(async () => {
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

describe('token and secret_code', () => {
  it('are masked in _rejected.log and in the trace', async () => {
    const logs = join(dir, 'logs');
    const collector = await startCollector(
      ['--listen', 'ndjson/127.0.0.1:0', '--listen', 'tcp/127.0.0.1:0', '--output', logs, '--trace'],
      { cwd: dir, listeners: 2 },
    );
    const register = 'REGISTER version=1;source=a;service=s;host=h;next=1;token=hunter2-secret\n';
    const raw = connect(collector.port('ndjson'), '127.0.0.1');
    raw.on('error', () => {});
    raw.end(register + register);
    const rejected = join(logs, '_rejected.log');
    const lines = await eventually(async () => {
      const text = await readFile(rejected, 'utf8');
      const found = text.split('\n').filter((line) => line !== '');
      expect(found).toHaveLength(2);
      return found;
    });
    for (const line of lines) {
      expect(JSON.parse(line).record).toBe('REGISTER version=1;source=a;service=s;host=h;next=1;token=***');
    }
    const client = await RawClient.connect({ port: collector.port('tcp') });
    client.send(message('STATUS', { secret_code: 'xyzzy-secret' }));
    await client.next((m) => m.command === 'OK');
    client.close();
    await eventually(() => expect(collector.stderr()).toMatch(/received.*"secret_code":"\*\*\*"/));
    expect(await readFile(rejected, 'utf8')).not.toContain('hunter2-secret');
    expect(collector.stderr()).not.toMatch(/hunter2-secret|xyzzy-secret/);
  });
});
