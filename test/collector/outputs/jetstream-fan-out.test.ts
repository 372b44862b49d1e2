/**
 * The JetStream output among the collector's outputs, on a single-node nats-server: with
 * `--output` too, every record goes to the files and to the stream, and the ACK waits for both;
 * `--jetstream` alone writes no file. A batch the stream already holds is counted in
 * logwire_jetstream_duplicates_total.
 */

import { access, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startCollector } from '../../../collector/collector.js';
import { loadConfig } from '../../../collector/config/config.js';
import type { Collector } from '../../../collector/config/config-types.js';
import { batchHeaders, messageId } from '../../../collector/outputs/jetstream/batch-message.js';
import { message } from '../../../shared/protocol/message.js';
import { NatsCluster } from '../../helpers/nats-cluster.js';
import { RawClient } from '../../helpers/raw-client.js';
import { eventsMessage, numbersIn, recordsBody } from '../../helpers/records.js';

let dir: string;
let cluster: NatsCluster;
let nc: NatsConnection;
let streamNo = 0;
let collector: Collector | undefined;
const clients: RawClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-js-fan-'));
  cluster = await NatsCluster.start(join(dir, 'nats'), 1);
  nc = await connect({ servers: cluster.urls });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await collector?.stop('test');
  collector = undefined;
});
afterAll(async () => {
  await nc?.close();
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A collector on its own stream; `output` (a directory) or not; `/metrics` on a free port. */
async function start(output: string | undefined): Promise<{ port: number; stream: string; cwd: string }> {
  streamNo += 1;
  const stream = `FAN${streamNo}`;
  const cwd = await mkdtemp(join(dir, 'c-'));
  const file = join(cwd, 'collector.toml');
  await writeFile(
    file,
    `[jetstream]\nservers = ${JSON.stringify(cluster.urls)}\nstream = "${stream}"\n` +
      `subject_prefix = "fan${streamNo}"\nreplicas = 1\n`,
  );
  const flags = {
    listen: ['tcp/127.0.0.1:0'],
    state: join(cwd, 'state'),
    metrics: '127.0.0.1:0',
    ...(output === undefined ? {} : { output }),
  };
  const config = await loadConfig({ file, flags }, cwd);
  collector = await startCollector(config, { log: { info() {}, warn() {}, error() {}, trace() {} } });
  return { port: Number(collector.addresses[0]!.split(':').pop()), stream, cwd };
}

async function session(port: number, source: string): Promise<RawClient> {
  const c = await RawClient.connect({ port });
  clients.push(c);
  c.send(message('REGISTER', { version: 1, source, service: 'app', host: 'h', next: 1 }));
  await c.next((m) => m.command === 'READY');
  return c;
}

async function storedIds(stream: string): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(stream);
  const ids: string[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const stored = await jsm.streams.getMessage(stream, { seq });
    ids.push(stored?.header.get('Nats-Msg-Id') ?? '');
  }
  return ids;
}

async function metric(name: string): Promise<number | undefined> {
  const text = await (await fetch(`http://${collector!.metricsAddress}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

it('with --output as well, writes every record to the files and to the stream before the ACK', async () => {
  const { port, stream, cwd } = await start('logs');
  const c = await session(port, 'fan-a');
  c.send(eventsMessage(1, 5));
  c.send(eventsMessage(6, 3));
  await c.next((m) => m.command === 'ACK' && m.params.seq === '8');
  expect(await numbersIn(join(cwd, 'logs', 'app.log'))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  expect(await storedIds(stream)).toEqual(['fan-a:1', 'fan-a:6']);
  const status = collector!.status();
  expect(status.output_files_written).toBe(8);
  expect(status.output_jetstream_written).toBe(8);
  expect(status.written).toBe(16); // two required outputs: each record counts once for each
});

it('--jetstream alone publishes and writes no file; a batch the stream holds already is a duplicate', async () => {
  const { port, stream, cwd } = await start(undefined);
  // Another collector stored fan-b:1 before this one saw it (a failover resend).
  const js = jetstream(nc);
  const route = { source: 'fan-b', service: 'app', host: 'h' };
  await js.publish(`fan${streamNo}.app`, recordsBody(1, 4), {
    msgID: messageId('fan-b', 1),
    headers: batchHeaders({ route, seq: 1, count: 4 }),
  });
  const c = await session(port, 'fan-b');
  c.send(eventsMessage(1, 4));
  c.send(eventsMessage(5, 2));
  await c.next((m) => m.command === 'ACK' && m.params.seq === '6');
  expect(await storedIds(stream)).toEqual(['fan-b:1', 'fan-b:5']);
  expect(await metric('logwire_jetstream_duplicates_total')).toBe(1);
  expect(await metric('logwire_jetstream_retries_total')).toBe(0);
  expect(collector!.status().output_jetstream_written).toBe(2);
  await expect(access(join(cwd, 'logs', 'app.log'))).rejects.toThrow(/ENOENT/);
  expect((await readdir(join(cwd, 'logs'))).filter((name) => name.endsWith('.log'))).toEqual([]);
});
