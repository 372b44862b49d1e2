/**
 * Source exhaustion: a flood of sources that register and never write keeps no mark, and
 * sources that do write past max_sources evict the least recently active marks (counted in
 * STATUS `sources_evicted`), so a fresh appender instance always gets READY, also after a
 * restart of the collector.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Message } from '../../shared/protocol/message.js';
import { message } from '../../shared/protocol/message.js';
import { type CollectorProcess, killAllCollectors, startCollector } from '../helpers/collector-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventsMessage } from '../helpers/records.js';

const MAX_SOURCES = 100;
const FLOOD = 12_000;
/** Below MAX_SOURCES: live sessions alone may fill the table (then REGISTER is refused). */
const CONCURRENCY = 40;

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-flood-'));
});

afterEach(async () => {
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

function start(): Promise<CollectorProcess> {
  return startCollector(['--config', join(dir, 'c.toml')], { cwd: dir, listeners: 1 });
}

/** One appender instance's start: REGISTER a source, optionally write one record, close. */
async function instance(port: number, source: string, write: boolean): Promise<Message> {
  const c = await RawClient.connect({ port });
  try {
    c.send(message('REGISTER', { version: 1, source, service: 'svc', host: 'h', next: 1 }));
    const reply = await c.next(() => true);
    if (reply.command === 'READY' && write) {
      c.send(eventsMessage(1, 1));
      await c.next((m) => m.command === 'ACK');
    }
    return reply;
  } finally {
    c.close();
  }
}

/** Runs `count` instances, `CONCURRENCY` at a time; returns the commands they were answered. */
async function many(
  port: number,
  prefix: string,
  count: number,
  write: boolean,
): Promise<Map<string, number>> {
  const answers = new Map<string, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const reply = await instance(port, `${prefix}${next++}`, write);
      const key = reply.command === 'INVALID' ? `INVALID ${reply.params.reason}` : reply.command;
      answers.set(key, (answers.get(key) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return answers;
}

async function status(port: number): Promise<Record<string, string>> {
  const c = await RawClient.connect({ port });
  try {
    c.send(message('STATUS'));
    const reply = await c.next((m) => m.command === 'OK' && m.params.command === 'STATUS');
    return { ...reply.params };
  } finally {
    c.close();
  }
}

it('serves a fresh source after 12,000 silent sources and churn past max_sources, and after a restart', {
  timeout: 120_000,
}, async () => {
  await writeFile(
    join(dir, 'c.toml'),
    `output = "${join(dir, 'logs')}"\nlisten = ["tcp/127.0.0.1:0"]\nmax_sources = ${MAX_SOURCES}\n`,
  );
  const collector = await start();
  const port = collector.port('tcp');

  // Sources that register and never write keep no mark past their session.
  expect(await many(port, 'silent-', FLOOD, false)).toEqual(new Map([['READY', FLOOD]]));
  expect(await status(port)).toMatchObject({ sources: '0', sources_evicted: '0' });
  expect((await instance(port, 'fresh-a', true)).command).toBe('READY');

  // Instances that each write (a job restarted often): the oldest marks make room.
  const churn = 3 * MAX_SOURCES;
  expect(await many(port, 'job-', churn, true)).toEqual(new Map([['READY', churn]]));
  expect(await status(port)).toMatchObject({
    sources: String(MAX_SOURCES),
    sources_evicted: String(churn + 1 - MAX_SOURCES),
  });
  expect((await instance(port, 'fresh-b', false)).command).toBe('READY');
  // The most recent marks were kept: a known source resending is still told what it wrote.
  const known = await instance(port, `job-${churn - 1}`, false);
  expect(known.command).toBe('INVALID'); // its mark (1) is at or past next=1: sequence_behind
  expect(known.params.reason).toBe('sequence_behind');

  expect((await collector.stop()).code).toBe(0);
  const again = await start();
  const port2 = again.port('tcp');
  expect((await instance(port2, 'fresh-c', true)).command).toBe('READY');
  expect(await status(port2)).toMatchObject({ sources: String(MAX_SOURCES), sources_evicted: '1' });
});
