/**
 * Bad input, in-process: a UDP batch whose numbers end past 2^53 − 1 is refused (not rounded),
 * and a peer flooding bad datagrams gets at most 10 log lines a minute, then one summary.
 */

import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCollector } from '../../../collector/collector.js';
import { loadConfig } from '../../../collector/config/config.js';
import type { Collector, CollectorLog } from '../../../collector/config/config-types.js';
import { lastRecordNumber } from '../../../collector/writer/write-job.js';
import { encodeMessageToBuffer } from '../../../shared/protocol/encode.js';
import { message } from '../../../shared/protocol/message.js';
import { RawClient } from '../../helpers/raw-client.js';
import { eventually, numbersIn, recordsBody } from '../../helpers/records.js';

let dir: string;
let collector: Collector | undefined;
let warnings: string[];

const log: CollectorLog = {
  info() {},
  warn: (msg) => warnings.push(msg),
  error() {},
  trace() {},
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-bad-input-'));
  warnings = [];
});

afterEach(async () => {
  await collector?.stop('test');
  collector = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function startUdp(listen = 'udp/127.0.0.1:0'): Promise<number> {
  const config = await loadConfig({ flags: { listen: [listen], output: join(dir, 'logs') } }, dir);
  collector = await startCollector(config, { log });
  return Number(collector.addresses[0]!.split(':').pop());
}

async function sendAll(port: number, datagrams: Buffer[]): Promise<void> {
  const socket = createSocket('udp4');
  try {
    for (const datagram of datagrams) {
      await new Promise<void>((resolve, reject) =>
        socket.send(datagram, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
      );
    }
  } finally {
    socket.close();
  }
}

const udpEvents = (seq: number, count: number, body: Buffer): Buffer =>
  encodeMessageToBuffer(message('EVENTS', { seq, count, source: 'u', service: 'svc', host: 'h' }, body));

describe('lastRecordNumber', () => {
  it('is seq + count − 1 exactly, or undefined past 2^53 − 1', () => {
    const MAX = BigInt(Number.MAX_SAFE_INTEGER);
    const numbers = fc.oneof(
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ min: Number.MAX_SAFE_INTEGER - 100, max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ min: 1, max: 100 }),
    );
    fc.assert(
      fc.property(numbers, numbers, (seq, count) => {
        const exact = BigInt(seq) + BigInt(count) - 1n;
        expect(lastRecordNumber(seq, count)).toBe(exact <= MAX ? Number(exact) : undefined);
      }),
    );
    // seq + count rounds to 2^53 here before the − 1: the naive sum would pass as safe.
    expect(lastRecordNumber(Number.MAX_SAFE_INTEGER, 2)).toBeUndefined();
  });
});

describe('a session batch ending past 2^53 − 1', () => {
  it('is refused with INVALID bad_seq even where seq + count rounds', async () => {
    const port = await startUdp('tcp/127.0.0.1:0');
    const c = await RawClient.connect({ port });
    try {
      c.send(message('REGISTER', { version: 1, source: 'big', service: 'svc', host: 'h', next: 1 }));
      await c.next((m) => m.command === 'READY');
      c.send(message('EVENTS', { seq: Number.MAX_SAFE_INTEGER, count: 2 }, recordsBody(1, 2)));
      const invalid = await c.next((m) => m.command === 'INVALID' || m.command === 'ACK');
      expect(invalid.command).toBe('INVALID');
      expect({ ...invalid.params }).toEqual({ command: 'EVENTS', reason: 'bad_seq' });
      expect(Number(collector!.status().protocol_errors)).toBe(1);
    } finally {
      c.close();
    }
  });
});

describe('bad input over UDP', () => {
  it('drops and counts a batch whose last number would pass 2^53 − 1, and writes the next one', async () => {
    const port = await startUdp();
    await sendAll(port, [
      udpEvents(Number.MAX_SAFE_INTEGER, 2, recordsBody(1, 2)),
      udpEvents(1, 3, recordsBody(1, 3)),
    ]);
    const status = await eventually(() => {
      const now = collector!.status();
      expect(Number(now.batches)).toBe(1);
      expect(Number(now.datagrams_dropped)).toBe(1);
      return now;
    });
    expect(Number(status.protocol_errors)).toBe(1);
    await collector!.stop('test');
    expect(await numbersIn(join(dir, 'logs', 'svc.log'))).toEqual([1, 2, 3]);
    expect(warnings.filter((w) => w.includes('2^53'))).toHaveLength(1);
  });

  it('logs at most 10 lines for a peer flooding bad datagrams, then says how many it held back', async () => {
    const port = await startUdp();
    await sendAll(
      port,
      Array.from({ length: 100 }, (_, i) => Buffer.from(`not a message ${i}\n`)),
    );
    await eventually(() => expect(Number(collector!.status().datagrams_dropped)).toBe(100));
    const about = (text: string) => warnings.filter((w) => w.includes(text));
    expect(about('protocol error from udp/127.0.0.1')).toHaveLength(10);
    await collector!.stop('test');
    expect(about('suppressed')).toEqual(['suppressed 90 more lines about bad input from udp/127.0.0.1']);
  });
});

describe('an ndjson line over max_body', () => {
  it('is rejected and counted, and every good line before it in the same write is written', async () => {
    const config = await loadConfig(
      { flags: { listen: ['ndjson/127.0.0.1:0'], output: join(dir, 'logs') } },
      dir,
    );
    collector = await startCollector({ ...config, maxBody: 1000 }, { log });
    const port = Number(collector.addresses[0]!.split(':').pop());
    const good = recordsBody(1, 20);
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.end(Buffer.concat([good, Buffer.from(`{"n":21,"msg":"${'x'.repeat(2000)}"}\n`)]));
    await new Promise((resolve) => socket.once('close', resolve));
    const status = await eventually(() => {
      const now = collector!.status();
      expect(Number(now.written) + Number(now.rejected)).toBe(21);
      return now;
    });
    expect(Number(status.rejected)).toBe(1);
    expect(await numbersIn(join(dir, 'logs', 'ndjson.log'))).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const rejected = (await readFile(join(dir, 'logs', '_rejected.log'), 'utf8')).trim().split('\n');
    expect(rejected).toHaveLength(1);
    expect(JSON.parse(rejected[0]!)).toMatchObject({ reason: 'body_too_large' });
    expect(warnings.filter((w) => w.includes('ndjson line over max_body'))).toHaveLength(1);
  });
});
