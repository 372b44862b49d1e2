/**
 * The JetStream output against a single-node nats-server on loopback: one message per batch,
 * `write` resolved only after the PubAcks, duplicates counted, failed publishes retried with
 * the same id, and clear errors for a missing server or a stream configured otherwise.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { HEADER, messageId } from '../../../collector/outputs/jetstream/batch-message.js';
import {
  JETSTREAM_DEFAULTS,
  type JetStreamSettings,
} from '../../../collector/outputs/jetstream/jetstream-config.js';
import {
  DEFAULT_PUBLISH_RETRY,
  type JetStreamCounters,
  JetStreamOutput,
} from '../../../collector/outputs/jetstream/jetstream-output.js';
import type { RoutedBatch, TickRecords } from '../../../collector/outputs/output.js';
import { LogwireError } from '../../../shared/errors.js';
import { freePort, NatsCluster } from '../../helpers/nats-cluster.js';
import { recordsBody } from '../../helpers/records.js';

let dir: string;
let cluster: NatsCluster;
let nc: NatsConnection;
let streamNo = 0;
const opened: JetStreamOutput[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-js-out-'));
  cluster = await NatsCluster.start(dir, 1);
  nc = await connect({ servers: cluster.urls });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((output) => output.close()));
});
afterAll(async () => {
  await nc?.close();
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

function settings(): JetStreamSettings {
  streamNo += 1;
  return {
    ...JETSTREAM_DEFAULTS,
    servers: cluster.urls,
    stream: `T${streamNo}`,
    subjectPrefix: `t${streamNo}`,
    replicas: 1,
  };
}

function counters(): JetStreamCounters {
  return { jetstreamDuplicates: 0, jetstreamRetries: 0 };
}

function batch(source: string, seq: number, count: number): RoutedBatch {
  const body = recordsBody(seq, count);
  return {
    job: {
      route: { source, service: 'svc.a', host: 'h1' },
      seq,
      count,
      body,
      mode: 'session',
      done: () => undefined,
      fail: () => undefined,
    },
    skip: 0,
    path: 'svc.a.log',
    body,
    count,
  };
}

async function tick(output: JetStreamOutput, batches: RoutedBatch[]): Promise<TickRecords> {
  const records = { written: 0, rejected: 0 };
  const part = output.stage(batches, () => records);
  await part.declare(async (step) => step());
  await part.write();
  return records;
}

async function open(s: JetStreamSettings, c: JetStreamCounters, retry = DEFAULT_PUBLISH_RETRY) {
  const output = await JetStreamOutput.open(s, c, retry);
  opened.push(output);
  return output;
}

it('publishes one message per batch, stored by the time write resolves, with its names in headers', async () => {
  const s = settings();
  const output = await open(s, counters());
  const records = await tick(output, [batch('a', 1, 10), batch('b', 1, 5), batch('a', 11, 10)]);
  expect(records).toEqual({ written: 25, rejected: 0 });
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(s.stream);
  expect(info.state.messages).toBe(3);
  expect(info.config.subjects).toEqual([`${s.subjectPrefix}.>`]);
  const first = await jsm.streams.getMessage(s.stream, { seq: 1 });
  expect(first?.subject).toBe(`${s.subjectPrefix}.svc_a`);
  expect(first?.header.get('Nats-Msg-Id')).toBe(messageId('a', 1));
  expect(first?.header.get(HEADER.service)).toBe('svc.a');
  expect(first?.header.get(HEADER.host)).toBe('h1');
  expect(first?.header.get(HEADER.count)).toBe('10');
  // A source's batches are stored in their order.
  const third = await jsm.streams.getMessage(s.stream, { seq: 3 });
  expect([first?.header.get(HEADER.source), third?.header.get(HEADER.seq)]).toEqual(['a', '11']);
});

it('sends a batch larger than the server takes as consecutive parts, each with its own id', async () => {
  const s = settings();
  const output = await open(s, counters());
  // ~1.6 MB of 23,000 records: more than the default max_payload (1 MiB).
  const records = await tick(output, [batch('big', 1, 23_000)]);
  expect(records.written).toBe(23_000);
  const jsm = await jetstreamManager(nc);
  const stored = (await jsm.streams.info(s.stream)).state.messages;
  expect(stored).toBeGreaterThanOrEqual(2);
  let next = 1;
  for (let seq = 1; seq <= stored; seq++) {
    const part = await jsm.streams.getMessage(s.stream, { seq });
    expect(part?.header.get('Nats-Msg-Id')).toBe(`big:${next}`);
    next += Number(part?.header.get(HEADER.count));
  }
  expect(next).toBe(23_001);
});

it('counts a batch the stream already holds as a duplicate, stored once', async () => {
  const s = settings();
  const c = counters();
  // Two collectors publishing the same batch: the second one's PubAck says duplicate.
  const one = await open(s, c);
  const two = await open(s, c);
  expect(await tick(one, [batch('x', 1, 50)])).toEqual({ written: 50, rejected: 0 });
  expect(await tick(two, [batch('x', 1, 50), batch('x', 51, 50)])).toEqual({ written: 50, rejected: 0 });
  expect(c.jetstreamDuplicates).toBe(1);
  const jsm = await jetstreamManager(nc);
  expect((await jsm.streams.info(s.stream)).state.messages).toBe(2);
});

it('retries a failed publish with the same id until the stream takes it', async () => {
  const s = settings();
  const c = counters();
  const jsm = await jetstreamManager(nc);
  let waits = 0;
  const output = await open(s, c, {
    timeout: 1_000,
    delays: [10, 10, 10, 10],
    // The stream comes back during the second wait: the retry after it is stored.
    wait: async () => {
      waits += 1;
      if (waits === 2) await jsm.streams.add({ name: s.stream, subjects: [`${s.subjectPrefix}.>`] });
    },
  });
  await jsm.streams.delete(s.stream);
  const records = await tick(output, [batch('r', 7, 3)]);
  expect(records.written).toBe(3);
  expect(c.jetstreamRetries).toBeGreaterThanOrEqual(2);
  const stored = await jsm.streams.getMessage(s.stream, { seq: 1 });
  expect(stored?.header.get('Nats-Msg-Id')).toBe('r:7');
});

it('fails the tick once the retries are spent, so nothing is acknowledged', async () => {
  const s = settings();
  const output = await open(s, counters(), { timeout: 500, delays: [1], wait: async () => undefined });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(s.stream);
  const failure = await tick(output, [batch('f', 1, 1)]).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(LogwireError);
  expect((failure as LogwireError).code).toBe('LW_ERR_OUTPUT');
  expect((failure as Error).message).toContain(s.stream);
});

it('publishes nothing more of a source after one of its batches failed, and the other sources go on', async () => {
  const s = settings();
  const output = await open(s, counters(), { timeout: 1_000, delays: [1], wait: async () => undefined });
  // One record over max_payload (1 MiB): the server refuses it every time.
  const body = Buffer.from(`{"pad":"${'x'.repeat(1_100_000)}"}\n`);
  const huge: RoutedBatch = { ...batch('k', 1, 1), job: { ...batch('k', 1, 1).job, body }, body };
  const failure = await tick(output, [huge, batch('k', 2, 5), batch('other', 1, 5)]).catch((e: unknown) => e);
  expect((failure as LogwireError).code).toBe('LW_ERR_OUTPUT');
  const jsm = await jetstreamManager(nc);
  // Had k:2 been stored, k:1's resend would land behind it, and the writing tier would drop it.
  const stored = await jsm.streams.getMessage(s.stream, { seq: 1 });
  expect(stored?.header.get('Nats-Msg-Id')).toBe('other:1');
  expect((await jsm.streams.info(s.stream)).state.messages).toBe(1);
});

it('refuses to start when no server answers, naming the URL', async () => {
  const url = `nats://127.0.0.1:${await freePort()}`;
  const failure = await open({ ...settings(), servers: [url] }, counters()).catch((error: unknown) => error);
  expect((failure as LogwireError).code).toBe('LW_ERR_CONNECT');
  expect((failure as Error).message).toContain(url);
});

it('refuses a stream configured otherwise than [jetstream]', async () => {
  const s = settings();
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: s.stream,
    subjects: [`${s.subjectPrefix}.>`],
    duplicate_window: 5_000_000_000,
  });
  const failure = await open(s, counters()).catch((error: unknown) => error);
  expect((failure as LogwireError).code).toBe('LW_ERR_CONFIG');
  expect((failure as Error).message).toMatch(/duplicate_window 5000 ms, configured 120000 ms/);
});
