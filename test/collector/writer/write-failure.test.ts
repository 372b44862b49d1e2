/**
 * An output the collector cannot write: its log names the file's full path, the client hears
 * `INVALID command=EVENTS;reason=write_failed` before the connection closes, and the appender's
 * close report says the collector could not write, not that it was not connected.
 */

import { once } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAppender } from '../../../appender/appender.js';
import { startCollector } from '../../../collector/collector.js';
import { loadConfig } from '../../../collector/config/config.js';
import type { Collector, CollectorLog } from '../../../collector/config/config-types.js';
import { message } from '../../../shared/protocol/message.js';
import { RawClient } from '../../helpers/raw-client.js';
import { recordsBody } from '../../helpers/records.js';

let dir: string;
let collector: Collector | undefined;
let client: RawClient | undefined;
const errors: string[] = [];
const log: CollectorLog = {
  info() {},
  warn() {},
  trace() {},
  error: (msg) => {
    errors.push(msg);
  },
};
const diskFull = async (_handle: FileHandle, _chunks: Buffer[]): Promise<number> => {
  throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-write-failure-'));
  errors.length = 0;
  const config = await loadConfig({ flags: { listen: ['tcp/127.0.0.1:0'], output: join(dir, 'logs') } }, dir);
  collector = await startCollector(config, { log, writev: diskFull });
});

afterEach(async () => {
  client?.close();
  await collector?.stop('test').catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

function port(): number {
  return Number(collector!.addresses[0]!.split(':').pop());
}

describe('a write that fails', () => {
  it('is logged with the full path and answered write_failed before the close', async () => {
    client = await RawClient.connect({ port: port() });
    client.send(message('REGISTER', { version: 1, source: 'wf', service: 'svc', host: 'h', next: 1 }));
    await client.next((m) => m.command === 'READY');
    client.send(message('EVENTS', { seq: 1, count: 2 }, recordsBody(1, 2)));
    const reply = await client.next((m) => m.command === 'INVALID');
    expect({ ...reply.params }).toEqual({ command: 'EVENTS', reason: 'write_failed' });
    await client.closedByPeer();
    expect(errors.join('\n')).toContain(`cannot write ${join(dir, 'logs', 'svc.log')}: ENOSPC`);
  });

  it("makes the appender's report say the collector could not write", async () => {
    const stderr: string[] = [];
    const appender = await createAppender(
      { address: collector!.addresses[0], service: 'svc', closeTimeout: 200, backoff: [50] },
      { stderr: (line) => stderr.push(line) },
    );
    // The report is read once the collector has failed a write and closed the connection.
    const disconnected = new Promise<void>((resolve) =>
      appender.on('status', (status: { state: string }) => {
        if (status.state === 'disconnected' && errors.length > 0) resolve();
      }),
    );
    appender.write('{"n":1}\n');
    await disconnected;
    appender.end();
    await once(appender, 'close');
    const report = stderr.join('');
    expect(report).toMatch(/1 records not acknowledged within closeTimeout/);
    expect(report).toContain('could not write the records to its output');
    expect(report).not.toContain('not connected');
  });
});
