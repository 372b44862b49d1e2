/**
 * Message coverage (issue #2): one in-process run that drives a real collector through every
 * command PROTOCOL.md defines — sessions, backpressure, control, refusals — and then asks the
 * dispatcher's coverage which defined messages were never exercised. It must be none.
 */

import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startCollector } from '../collector/collector.js';
import { loadConfig } from '../collector/config/config.js';
import type { Collector, CollectorConfig, CollectorLog } from '../collector/config/config-types.js';
import { defaultCoverage } from '../shared/dispatcher/coverage.js';
import { PROTOCOL_COMMANDS } from '../shared/protocol/definitions.js';
import { message } from '../shared/protocol/message.js';
import { expectCovered } from './helpers/coverage.js';
import { MessengerClient } from './helpers/messenger-client.js';
import { RawClient } from './helpers/raw-client.js';
import { eventsMessage } from './helpers/records.js';

const quiet: CollectorLog = { info() {}, warn() {}, error() {}, trace() {} };
let dir: string;
const collectors: Collector[] = [];
const clients: Array<{ close(): void }> = [];

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.allSettled(collectors.map((c) => c.stop('test')));
  await rm(dir, { recursive: true, force: true });
});

async function collectorWith(
  stall: Promise<void>,
): Promise<{ collector: Collector; port: number; wsPort: number }> {
  const writev = async (handle: FileHandle, chunks: Buffer[]): Promise<number> => {
    await stall;
    return (await handle.writev(chunks)).bytesWritten;
  };
  const output = join(dir, `logs-${collectors.length}`);
  const flags = { listen: ['tcp/127.0.0.1:0', 'ws/127.0.0.1:0/'], output };
  // The browser below comes from an origin this listener allows (the file read again on RELOAD too).
  const read = async (): Promise<CollectorConfig> => {
    const config = await loadConfig({ flags }, dir);
    const listeners = config.listeners.map((l) =>
      l.address.scheme === 'ws' ? { ...l, allowOrigins: ['http://x'] } : l,
    );
    return { ...config, listeners, pauseAbove: 20_000 };
  };
  const collector = await startCollector(await read(), { log: quiet, writev, reload: read });
  collectors.push(collector);
  const portOf = (scheme: string) =>
    Number(
      collector.addresses
        .find((a) => a.startsWith(scheme))!
        .split(':')
        .pop()!
        .split('/')[0],
    );
  return { collector, port: portOf('tcp/'), wsPort: portOf('ws/') };
}

it('exercises every command of the protocol', async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-coverage-'));
  defaultCoverage.reset();
  let release!: () => void;
  const { collector, port, wsPort } = await collectorWith(
    new Promise<void>((resolve) => (release = resolve)),
  );

  const c = await RawClient.connect({ port });
  clients.push(c);
  const expectReply = (command: string) => c.next((m) => m.command === command);
  c.send(message('REGISTER', { version: 1, source: 'cov', service: 'svc', host: 'h', next: 1 })); // → READY
  await expectReply('READY');
  for (let i = 0; i < 5; i++) c.send(eventsMessage(i * 100 + 1, 100)); // stalled writes → PAUSE
  await expectReply('PAUSE');
  release(); // → UNPAUSE, ACK
  await expectReply('UNPAUSE');
  await c.next((m) => m.command === 'ACK' && m.params.seq === '500');
  for (const command of ['ALIVE', 'HELP', 'STATUS', 'LOG', 'LOG_ROTATE', 'RELOAD', 'NOPE'])
    c.send(message(command));
  await expectReply('ABSOLUTELY');
  await expectReply('COMMANDS');
  await expectReply('UNKNOWN');
  await c.next((m) => m.command === 'OK' && m.params.command === 'RELOAD');
  c.send(message('ACK', { seq: 1 })); // a reply: received, never answered
  c.send(message('ABSOLUTELY'));
  c.send(message('READY', { version: 1, last: 0, max_body: 1 }));
  c.send(message('OK', { command: 'X' }));
  c.send(message('COMMANDS', { list: 'A' }));
  c.send(message('UNKNOWN', { command: 'X' }));
  c.send(message('UNAUTHORIZED', { command: 'X' }));
  c.send(message('PAUSE'));
  c.send(message('UNPAUSE'));
  c.send(message('INVALID', { reason: 'x' }));
  c.send(message('ALIVE', { serial: 2 }));
  await c.next((m) => m.command === 'ABSOLUTELY' && m.params.serial === '2');

  const browser = await MessengerClient.connect(`ws/127.0.0.1:${wsPort}/`, {
    ws: { headers: { Origin: 'http://x' } },
  });
  clients.push(browser);
  browser.send(message('LOG')); // → UNAUTHORIZED
  await browser.next((m) => m.command === 'UNAUTHORIZED');
  browser.send(message('EVENTS', { seq: 1, count: 1 }, Buffer.from('{}\n'))); // → INVALID not_registered
  await browser.next((m) => m.command === 'INVALID');

  c.send(message('QUIT'));
  await c.next((m) => m.command === 'OK' && m.params.command === 'QUIT');
  await collector.done;

  const second = await collectorWith(Promise.resolve());
  const d = await RawClient.connect({ port: second.port });
  clients.push(d);
  d.send(message('STOP'));
  await d.next((m) => m.command === 'OK' && m.params.command === 'STOP');
  await second.collector.done;

  expectCovered(defaultCoverage, PROTOCOL_COMMANDS);
  expect(defaultCoverage.report().neverExercised).toEqual([]);
});
