/**
 * The collector under faults and hostile input, in-process (regressions from review): a
 * peer must not crash it, a failed write must not lose or duplicate, UDP must not grow memory,
 * and LOG must not wait for input to stop.
 */

import { createSocket } from 'node:dgram';
import { type EventEmitter, once } from 'node:events';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeMessageToBuffer } from '../../shared/protocol/encode.js';
import { type Message, message } from '../../shared/protocol/message.js';
import { inProcessCollector, type Writev } from '../helpers/in-process-collector.js';
import { until, within } from '../helpers/net-fixtures.js';
import type { RawClient } from '../helpers/raw-client.js';
import { eventsMessage, eventually, numbersIn, recordsBody } from '../helpers/records.js';

const lab = inProcessCollector('lw-faults-', { ignoreStopErrors: true });
const { start, client } = lab;

/** A client that still holds everything from record 1 (first=1). */
async function register(c: RawClient, source: string, next = 1, service = 'svc') {
  c.send(message('REGISTER', { version: 1, source, service, host: 'h', next, first: 1 }));
  return c.next((m) => m.command === 'READY' || m.command === 'INVALID');
}

async function stillUp(port: number): Promise<void> {
  const c = await client(port);
  c.send(message('ALIVE', { serial: 7 }));
  await c.next((m) => m.command === 'ABSOLUTELY');
}

/** A promise with its resolve, for a test seam that waits on another's progress. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const realWritev: Writev = async (handle, chunks) => (await handle.writev(chunks)).bytesWritten;

describe('hostile input', () => {
  it('answers an oversized EVENTS without seq with INVALID, and stays up', async () => {
    const [port] = await start({ maxBody: 100 });
    const c = await client(port!);
    await register(c, 'x');
    c.write(`EVENTS bytes=200\n${'y'.repeat(200)}`);
    const invalid = await c.next((m) => m.command === 'INVALID');
    expect(invalid.params.reason).toBe('missing_seq');
    await stillUp(port!);
  });

  it('refuses seq + count beyond 2^53 − 1, and stays up', async () => {
    const [port] = await start();
    const c = await client(port!);
    await register(c, 'big');
    c.send(message('EVENTS', { seq: 9007199254740991, count: 10 }, recordsBody(1, 10)));
    const invalid = await c.next((m) => m.command === 'INVALID');
    expect({ ...invalid.params }).toEqual({ command: 'EVENTS', reason: 'bad_seq' });
    await stillUp(port!);
  });

  it('drops UDP batches past twice pause_above instead of queueing them', async () => {
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ports = await start(
      { pauseAbove: 20_000 },
      async (h, c) => {
        await stalled;
        return realWritev(h, c);
      },
      ['tcp/127.0.0.1:0', 'udp/127.0.0.1:0'],
    );
    const udp = createSocket('udp4');
    const packet = encodeMessageToBuffer(
      message('EVENTS', { seq: 1, count: 50, source: 'u', service: 'udp', host: 'h' }, recordsBody(1, 50)),
    );
    for (let i = 0; i < 200; i++) {
      await new Promise<void>((resolve) => udp.send(packet, ports[1]!, '127.0.0.1', () => resolve()));
    }
    udp.close();
    // Past the hard cap no link is read at all, so ask in-process rather than over TCP.
    const status = await eventually(() => {
      const now = lab.collector.status();
      expect(Number(now.batches) + Number(now.datagrams_dropped)).toBe(200);
      return now;
    });
    expect(Number(status.queued_bytes)).toBeLessThanOrEqual(40_000 + packet.length);
    expect(Number(status.datagrams_dropped)).toBeGreaterThan(0);
    release();
  });
});

describe('failed writes', () => {
  it('loses nothing when a tick fails with more of its source queued behind it', async () => {
    const firstBody = recordsBody(1, 10).length;
    const secondBody = recordsBody(11, 10).length;
    const firstWriting = deferred();
    let calls = 0;
    const [port] = await start({}, async (handle, chunks) => {
      calls += 1;
      if (calls === 1) {
        // Fail only once the second batch waits in the queue behind this tick.
        firstWriting.resolve();
        await until(
          () => Number(lab.collector.status().queued_bytes) >= firstBody + secondBody,
          'the second batch queued behind the failing tick',
        );
        throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
      }
      return realWritev(handle, chunks);
    });
    const c = await client(port!);
    await register(c, 'f', 1);
    c.send(eventsMessage(1, 10));
    await within(firstWriting.promise, 'the first tick writing');
    c.send(eventsMessage(11, 10));
    await c.closedByPeer();
    expect(c.received.filter((m) => m.command === 'ACK')).toEqual([]);
    const again = await client(port!);
    const ready = await register(again, 'f', 21);
    expect(ready.params.last).toBe('0');
    again.send(eventsMessage(1, 10));
    again.send(eventsMessage(11, 10));
    await again.next((m) => m.command === 'ACK' && m.params.seq === '20');
    expect(await numbersIn(join(lab.dir, 'logs', 'svc.log'))).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  it('leaves no duplicate in a file whose write was still landing when another failed', async () => {
    // In one tick: a's write fails once b's has started, and b's lands only after a's failure has
    // reached the writer (the output set closes a failed file, then rejects its write).
    const bWriting = deferred();
    let aFailedAndClosed: Promise<unknown> | undefined;
    let failA = true;
    let holdB = true;
    const [port] = await start({}, async (handle, chunks) => {
      const text = Buffer.concat(chunks).toString();
      if (failA && text.includes('"svc":"a"')) {
        failA = false;
        await within(bWriting.promise, "b's write in the same tick");
        // A FileHandle emits 'close' (Node ≥ 15.4), though @types/node does not say so.
        aFailedAndClosed = once(handle as unknown as EventEmitter, 'close');
        throw Object.assign(new Error('ENOSPC: simulated'), { code: 'ENOSPC' });
      }
      if (holdB && text.includes('"svc":"b"')) {
        holdB = false;
        bWriting.resolve();
        await until(() => aFailedAndClosed !== undefined, "a's write failing");
        await within(aFailedAndClosed!, "a's file closed after its failed write");
        await new Promise((resolve) => setImmediate(resolve));
      }
      return realWritev(handle, chunks);
    });
    const body = (svc: string) => recordsBody(1, 3, `,"svc":"${svc}"`);
    const a = await client(port!);
    const b = await client(port!);
    await register(a, 'sa', 1, 'a');
    await register(b, 'sb', 1, 'b');
    // One tick for both: send them in one turn.
    a.send(message('EVENTS', { seq: 1, count: 3 }, body('a')));
    b.send(message('EVENTS', { seq: 1, count: 3 }, body('b')));
    await Promise.all([a.closedByPeer(), b.closedByPeer()]);
    for (const svc of ['a', 'b']) {
      const c = await client(port!);
      const ready = await register(c, `s${svc}`, 4, svc);
      expect(ready.params.last).toBe('0');
      c.send(message('EVENTS', { seq: 1, count: 3 }, body(svc)));
      await c.next((m) => m.command === 'ACK' && m.params.seq === '3');
    }
    expect(await numbersIn(join(lab.dir, 'logs', 'a.log'))).toEqual([1, 2, 3]);
    expect(await numbersIn(join(lab.dir, 'logs', 'b.log'))).toEqual([1, 2, 3]);
  });
});

describe('a REGISTER during a tick', () => {
  it('never closes a file the tick wrote, so a failed tick is cut back and written once', async () => {
    let reachedRejected!: () => void;
    const rejectedReached = new Promise<void>((resolve) => {
      reachedRejected = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let failOnce = true;
    const [port] = await start({ maxOpenFiles: 2 }, async (handle, chunks) => {
      // The tick's _rejected.log write stalls (a.log's is done), then fails: the tick is undone.
      if (failOnce && Buffer.concat(chunks).toString().includes('not_an_object')) {
        failOnce = false;
        reachedRejected();
        await released;
        throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
      }
      return realWritev(handle, chunks);
    });
    const body = Buffer.concat([recordsBody(1, 3), Buffer.from('not json\n')]);
    const a = await client(port!);
    await register(a, 'sa', 1, 'a');
    a.send(message('EVENTS', { seq: 1, count: 4 }, body));
    await rejectedReached;
    // Both slots (a.log, _rejected.log) are taken; a new session's file must not push a.log out.
    const c = await client(port!);
    expect((await register(c, 'sc', 1, 'c')).command).toBe('READY');
    release();
    await a.closedByPeer();
    const again = await client(port!);
    expect((await register(again, 'sa', 5, 'a')).params.last).toBe('0');
    again.send(message('EVENTS', { seq: 1, count: 4 }, body));
    await again.next((m) => m.command === 'ACK' && m.params.seq === '4');
    expect(await numbersIn(join(lab.dir, 'logs', 'a.log'))).toEqual([1, 2, 3]);
  });
});

describe('control under load', () => {
  it('answers LOG while a session keeps sending, and writes what follows to a new file', async () => {
    let sending = true;
    // While the session sends, every write waits until a batch is queued behind it: the input
    // never stops, and LOG must not wait for it to.
    const [port] = await start({}, async (handle, chunks) => {
      const bytes = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
      await until(
        () => !sending || Number(lab.collector.status().queued_bytes) > bytes,
        'a batch queued behind the write',
      );
      return realWritev(handle, chunks);
    });
    const logs = join(lab.dir, 'logs');
    const c = await client(port!);
    await register(c, 'busy');
    let seq = 1;
    const pump = (async () => {
      while (sending) {
        c.send(eventsMessage(seq, 100));
        seq += 100;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const acked = (at: number) => (m: Message) => m.command === 'ACK' && Number(m.params.seq) >= at;
    await c.next(acked(100));
    // What logrotate does before it signals: move the file away.
    await rename(join(logs, 'svc.log'), join(logs, 'svc.log.1'));
    const control = await client(port!);
    control.send(message('LOG'));
    await control.next((m) => m.command === 'OK' && m.params.command === 'LOG');
    const sentBeforeOk = seq - 1;
    // The session goes on after LOG: batches sent after the answer are acknowledged.
    await c.next(acked(sentBeforeOk + 100));
    sending = false;
    await pump;
    const last = seq - 1;
    await c.next(acked(last));
    const rotated = await numbersIn(join(logs, 'svc.log.1'));
    const fresh = await numbersIn(join(logs, 'svc.log'));
    expect(fresh.length).toBeGreaterThan(0);
    expect([...rotated, ...fresh]).toEqual(Array.from({ length: last }, (_, k) => k + 1));
  });
});
