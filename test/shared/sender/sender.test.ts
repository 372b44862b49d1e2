import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAddressList } from '../../../shared/protocol/address.js';
import type { BatchStore } from '../../../shared/sender/batch-store.js';
import type { Fallback } from '../../../shared/sender/fallback.js';
import { MemoryStore } from '../../../shared/sender/memory-store.js';
import { RecordQueue } from '../../../shared/sender/record-queue.js';
import { Sender, type SenderOptions } from '../../../shared/sender/sender.js';
import { newSourceId } from '../../../shared/sender/source-id.js';
import { openSpoolStore } from '../../../shared/sender/spool-store.js';
import { FakeCollector, until } from '../../helpers/fake-collector.js';

const line = (i: number, pad = 0): string => `${JSON.stringify({ i, pad: 'p'.repeat(pad) })}\n`;

/** Pushes records `from`…`to - 1` into the queue as batches of `per`; returns their bodies. */
function feed(queue: RecordQueue, from: number, to: number, per = 10, pad = 0): Buffer[] {
  const bodies: Buffer[] = [];
  for (let i = from; i < to; i += per) {
    let text = '';
    const end = Math.min(to, i + per);
    for (let j = i; j < end; j++) text += line(j, pad);
    const body = Buffer.from(text);
    queue.push(body, end - i);
    bodies.push(body);
  }
  return bodies;
}

const expected = (from: number, to: number, pad = 0): string[] =>
  Array.from({ length: to - from }, (_, k) => line(from + k, pad).slice(0, -1));

class CapturingFallback implements Fallback {
  readonly records: string[] = [];
  failedBytes = 0;
  write(records: Buffer): void {
    this.records.push(records.toString());
  }
  close(): void {}
}

describe('Sender', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function collector(options?: { path?: string; maxBody?: number }): Promise<FakeCollector> {
    const fake = await FakeCollector.start(options);
    cleanup.push(() => fake.stop());
    return fake;
  }

  function sender(fake: FakeCollector, overrides: Partial<SenderOptions> = {}) {
    const queue = new RecordQueue({ maxBytes: 64 << 20, overflow: 'drop-oldest' });
    const store: BatchStore = overrides.store ?? new MemoryStore();
    const fallback = new CapturingFallback();
    const s = new Sender({
      addresses: parseAddressList(fake.address),
      store,
      durable: false,
      queue,
      source: newSourceId('test'),
      renewSource: async () => newSourceId('renewed'),
      host: 'testhost',
      pid: 1234,
      window: 64 * 1024,
      ackTimeout: 0,
      fallback,
      client: { backoff: [20], connectTimeout: 2000 },
      ...overrides,
    });
    cleanup.push(() => s.stop());
    return { s, queue, store, fallback };
  }

  it('registers, sends batches in order and frees them on ACK', async () => {
    const fake = await collector();
    const { s, queue, store } = sender(fake);
    feed(queue, 0, 1000);
    s.start('svc');
    await until(() => s.counters.acknowledged === 1000, [fake, s], '1000 acks');
    expect(fake.registers[0]).toMatchObject({
      version: '1',
      source: s.source,
      service: 'svc',
      host: 'testhost',
      next: '1',
      first: '1',
      pid: '1234',
    });
    expect(fake.lines()).toEqual(expected(0, 1000));
    expect(fake.marks.get(s.source)).toBe(1000);
    expect(store.batches).toBe(0);
    expect(s.unacknowledged).toBe(0);
    expect(queue.records).toBe(0);
  });

  it('keeps the unacknowledged bytes within the window', async () => {
    const fake = await collector();
    fake.acking = false;
    const { s, queue } = sender(fake, { window: 2000 });
    feed(queue, 0, 500, 10, 20);
    s.start('svc');
    await until(() => fake.written.length > 0 && s.unacknowledged > 0, [fake, s], 'first batches');
    await fake.waitFor(() => fake.written.length === s.unacknowledged, 5000, 'the window');
    const inFlight = s.unacked().reduce((n, b) => n + b.body.length, 0);
    expect(inFlight).toBeLessThanOrEqual(2000 + 400);
    expect(queue.records).toBeGreaterThan(0);
    fake.acking = true;
    await fake.restart();
    await until(() => s.counters.acknowledged === 500, [fake, s], 'all acked after a restart');
    expect(fake.lines()).toEqual(expected(0, 500, 20));
  });

  it('loses nothing and duplicates nothing when the collector restarts mid-stream', async () => {
    const fake = await collector();
    const { s, queue } = sender(fake, { window: 4096 });
    s.start('svc');
    let restarts = 0;
    fake.on('events', () => {
      // Twice, in the middle of the stream, with batches in flight.
      if ((fake.written.length > 2000 && restarts === 0) || (fake.written.length > 6000 && restarts === 1)) {
        restarts += 1;
        void fake.restart();
      }
    });
    feed(queue, 0, 10_000, 25);
    s.wake();
    await until(() => s.counters.acknowledged >= 10_000, [fake, s], 'every record acked', 20_000);
    expect(restarts).toBe(2);
    expect(fake.lines()).toEqual(expected(0, 10_000));
    expect(fake.gaps).toBe(0);
    expect(fake.registers.length).toBeGreaterThanOrEqual(3);
    expect(s.reconnects).toBeGreaterThanOrEqual(2);
  });

  it('holds on PAUSE without dropping, and goes on after UNPAUSE', async () => {
    const fake = await collector();
    const { s, queue } = sender(fake);
    s.start('svc');
    feed(queue, 0, 100);
    s.wake();
    await until(() => s.counters.acknowledged === 100, [fake, s], 'first acks');
    fake.pause();
    await until(() => s.paused, [s], 'the pause');
    feed(queue, 100, 300);
    s.wake();
    expect(queue.records).toBe(200);
    expect(fake.written).toHaveLength(100);
    fake.unpause();
    await until(() => s.counters.acknowledged === 300, [fake, s], 'acks after UNPAUSE');
    expect(fake.lines()).toEqual(expected(0, 300));
    expect(queue.dropped).toBe(0);
  });

  it('starts a new session unpaused; a still-paused collector pauses it again after READY', async () => {
    const fake = await collector();
    const { s, queue } = sender(fake);
    s.start('svc');
    await until(() => s.connected, [s], 'a session');
    fake.pause();
    await until(() => s.paused, [s], 'the pause');
    await fake.restart();
    await until(() => fake.sessions === 1 && s.connected, [fake, s], 'a new session');
    await until(() => s.paused, [s], 'the pause after READY');
    feed(queue, 0, 10);
    s.wake();
    expect(queue.records).toBe(10);
    fake.unpause();
    await until(() => s.counters.acknowledged === 10, [fake, s], 'acks');
  });

  it('takes a fresh source id on sequence_behind and registers again', async () => {
    const fake = await collector();
    const { s, queue } = sender(fake);
    const first = s.source;
    fake.marks.set(first, 500); // the collector has more of this id than it ever numbered
    feed(queue, 0, 50);
    s.start('svc');
    await until(() => s.counters.acknowledged === 50, [fake, s], 'acks under the new id');
    expect(fake.registers[0]!.source).toBe(first);
    expect(s.source).not.toBe(first);
    expect(s.source).toMatch(/^renewed-/);
    expect(fake.registers.at(-1)!.source).toBe(s.source);
    expect(fake.lines(s.source)).toEqual(expected(0, 50));
    expect(s.counters.refused).toBe(0);
  });

  it('backs off and counts a refused REGISTER, then gets in once allowed', async () => {
    const fake = await collector();
    fake.refuse = { command: 'UNAUTHORIZED', reason: 'bad_token' };
    const { s, queue } = sender(fake, { token: 'wrong' });
    feed(queue, 0, 10);
    s.start('svc');
    await until(() => s.counters.refused >= 2, [fake, s], 'two refusals');
    expect(s.lastRefusal).toBe('UNAUTHORIZED reason=bad_token');
    expect(fake.registers[0]!.token).toBe('wrong');
    expect(fake.written).toHaveLength(0);
    fake.refuse = undefined;
    await until(() => s.counters.acknowledged === 10, [fake, s], 'acks');
  });

  it('is opening from REGISTER on, and not once REGISTER timed out and the link was dropped', async () => {
    const fake = await collector();
    fake.holdingReady = true;
    const { s, queue } = sender(fake, {
      registerTimeout: 150,
      client: { backoff: [10_000], connectTimeout: 2000 },
    });
    const states: string[] = [];
    s.on('status', (status) => states.push(status.state));
    expect(s.opening).toBe(false);
    feed(queue, 0, 10);
    s.start('svc');
    await until(() => fake.heldReady.length > 0, [fake, s], 'REGISTER');
    expect(s.opening).toBe(true);
    expect(s.sending).toBe(false);
    // No READY within registerTimeout: the link is dropped, and with it the opening.
    await until(() => states.includes('disconnected'), [fake, s], 'the REGISTER timeout');
    expect(s.opening).toBe(false);
  });

  it('stops opening once READY makes the session take records', async () => {
    const fake = await collector();
    fake.holdingReady = true;
    const { s, queue } = sender(fake);
    feed(queue, 0, 10);
    s.start('svc');
    await until(() => fake.heldReady.length > 0, [fake, s], 'REGISTER');
    expect(s.opening).toBe(true);
    fake.releaseReady();
    await until(() => s.sending, [fake, s], 'READY');
    expect(s.opening).toBe(false);
    await until(() => s.counters.acknowledged === 10, [fake, s], 'acks');
  });

  it('takes a half-open link for dead within the heartbeat spans, not ackTimeout, and fails over', async () => {
    const frozen = await collector();
    const next = await collector();
    const statuses: string[] = [];
    const { s, queue } = sender(frozen, {
      addresses: parseAddressList(`${frozen.address},${next.address}`),
      ackTimeout: 600_000,
      client: {
        backoff: [20],
        connectTimeout: 2000,
        heartbeat: { idle: 600_000, timeout: 600_000, awaiting: { idle: 100, timeout: 100 } },
      },
    });
    s.on('status', (status) => {
      if (status.state === 'disconnected') statuses.push(status.error?.message ?? '');
    });
    s.start('svc');
    await until(() => s.sending, [frozen, s], 'READY');
    frozen.freeze(); // a stopped collector: the link stays up, nothing is read or answered
    feed(queue, 0, 50);
    s.wake();
    await until(() => s.counters.acknowledged === 50, [next, s], 'acks from the next collector');
    expect(next.lines()).toEqual(expected(0, 50));
    expect(frozen.written).toEqual([]);
    expect(s.counters.ackTimeouts).toBe(0);
    expect(statuses).toEqual([expect.stringMatching(/sent nothing for \d+ ms, ALIVE unanswered/)]);
  });

  it('reconnects when acks stop coming (ackTimeout); READY last then acknowledges', async () => {
    const fake = await collector();
    fake.acking = false;
    const { s, queue } = sender(fake, { ackTimeout: 100 });
    feed(queue, 0, 30);
    s.start('svc');
    await until(() => s.counters.ackTimeouts >= 1 && fake.registers.length >= 2, [fake, s], 'a timeout');
    fake.acking = true;
    await until(() => s.counters.acknowledged === 30, [fake, s], 'acks');
    expect(fake.lines()).toEqual(expected(0, 30));
    // The collector had written them all: READY last=30 acknowledged them, nothing was resent.
    expect(fake.received.get(s.source)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('never sends a body over max_body: re-cuts before numbering, drops lone giants', async () => {
    const fake = await collector({ maxBody: 300 });
    const { s, queue, fallback } = sender(fake);
    feed(queue, 0, 40, 20);
    queue.push(Buffer.from(line(999, 400)), 1);
    feed(queue, 40, 60, 20);
    s.start('svc');
    await until(() => s.counters.acknowledged === 60, [fake, s], 'acks');
    expect(fake.lines()).toEqual(expected(0, 60));
    expect(fake.largestBody).toBeLessThanOrEqual(300);
    expect(s.counters.dropped).toBe(1);
    expect(fallback.records).toEqual([line(999, 400)]);
    expect(fake.gaps).toBe(0);
  });

  it('speaks over a Unix socket', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'logwire-sender-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const fake = await collector({ path: join(dir, 'c.sock') });
    const { s, queue } = sender(fake);
    feed(queue, 0, 200);
    s.start('svc');
    await until(() => s.counters.acknowledged === 200, [fake, s], 'acks');
    expect(fake.lines()).toEqual(expected(0, 200));
  });

  describe('release', () => {
    it('gives back each acknowledged body once, the very Buffer queued, and only once acknowledged', async () => {
      const fake = await collector();
      fake.acking = false;
      const released: Buffer[] = [];
      /** The collector's mark for the source when each body was given back. */
      const marks: number[] = [];
      const { s, queue } = sender(fake, {
        release: (body) => {
          released.push(body);
          marks.push(fake.marks.get(s.source) ?? 0);
        },
      });
      const queued = feed(queue, 0, 100);
      s.start('svc');
      await fake.waitFor(() => fake.written.length === 100, 5000, 'every record written');
      expect(s.counters.acknowledged).toBe(0);
      expect(released).toHaveLength(0);
      // READY last=100 of the next session acknowledges them all.
      fake.acking = true;
      await fake.restart();
      await until(() => s.counters.acknowledged === 100, [fake, s], 'READY last');
      expect(released).toHaveLength(10);
      // Then ACKs, batch by batch.
      queued.push(...feed(queue, 100, 200));
      s.wake();
      await until(() => s.counters.acknowledged === 200, [fake, s], 'ACKs');
      expect(released).toHaveLength(20);
      for (const [i, body] of released.entries()) {
        expect(body).toBe(queued[i]);
        // Batch i holds records 10i+1 … 10i+10: the collector had them all when it came back.
        expect(marks[i]).toBeGreaterThanOrEqual(10 * (i + 1));
      }
    });

    it('sends whole a batch numbered before a smaller max_body, and gives every body back', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'logwire-spool-'));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      const fake = await collector();
      await fake.stop();
      const store = await openSpoolStore(dir);
      const released: Buffer[] = [];
      const { s, queue, fallback } = sender(fake, {
        store,
        durable: true,
        source: store.sourceId,
        release: (body) => released.push(body),
      });
      // Numbered into the spool before any READY, against the protocol's default max_body.
      const [small] = feed(queue, 0, 10);
      const [large] = feed(queue, 10, 20, 10, 50);
      const [last] = feed(queue, 20, 30);
      s.start('svc');
      await until(() => s.counters.spooled === 30, [s], 'spooled');
      fake.maxBody = 400;
      expect(large!.length).toBeGreaterThan(400);
      await fake.listen();
      await until(() => s.counters.acknowledged === 30 && s.unacknowledged === 0, [fake, s], 'acks', 15_000);
      expect(s.counters.dropped).toBe(0);
      expect(fallback.records).toEqual([]);
      expect(fake.largestBody).toBe(large!.length);
      expect(fake.lines(store.sourceId)).toEqual([
        ...expected(0, 10),
        ...expected(10, 20, 50),
        ...expected(20, 30),
      ]);
      expect(released).toEqual([small, large, last]);
    });
  });

  describe('with a spool', () => {
    it('spools while the collector is down and ships from the spool when it is back', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'logwire-spool-'));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      const fake = await collector();
      await fake.stop();
      const store = await openSpoolStore(dir);
      const { s, queue } = sender(fake, { store, durable: true, source: store.sourceId });
      feed(queue, 0, 100);
      s.start('svc');
      await until(() => s.counters.spooled === 100, [s], 'spooled');
      expect(queue.records).toBe(0);
      expect(s.counters.sent).toBe(0);
      await fake.listen();
      await until(() => s.counters.acknowledged === 100, [fake, s], 'acks', 15_000);
      expect(fake.lines(store.sourceId)).toEqual(expected(0, 100));
      expect(store.batches).toBe(0);
    });
  });
});
