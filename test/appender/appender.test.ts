import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type Appender, type AppenderDeps, createAppender } from '../../appender/appender.js';
import logwireAppender from '../../appender/index.js';
import { HOLD_LIMIT_MS } from '../../appender/input-hold.js';
import { ManualClock } from '../../shared/net/clock.js';
import { message } from '../../shared/protocol/message.js';
import { FakeCollector, FakeUdpCollector, until } from '../helpers/fake-collector.js';
import { eventually } from '../helpers/records.js';

/** What pino writes for `logger.info({ i }, 'm')`, without the fields that vary. */
const seqOf = (line: string): number => (JSON.parse(line) as { i: number }).i;

describe('appender', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function collector(options?: { path?: string; maxBody?: number }): Promise<FakeCollector> {
    const fake = await FakeCollector.start(options);
    cleanup.push(() => fake.stop());
    return fake;
  }

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'logwire-appender-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  async function appender(options: Record<string, unknown>, deps: AppenderDeps = {}) {
    const stderr: string[] = [];
    const stream = await createAppender(
      { backoff: [20], batch: { maxDelay: 2 }, closeTimeout: 2000, ...options },
      { stderr: (text) => stderr.push(text), ...deps },
    );
    cleanup.push(() => close(stream));
    return { stream, stderr, logger: pino({ base: undefined, timestamp: false }, stream) };
  }

  function close(stream: Appender): Promise<void> {
    if (stream.closed) return Promise.resolve();
    const closed = once(stream, 'close').then(() => {});
    stream.end();
    return closed;
  }

  const logMany = (logger: pino.Logger, from: number, to: number): void => {
    for (let i = from; i < to; i++) logger.info({ i }, 'm');
  };

  const inOrder = (lines: string[], from: number, to: number): void => {
    expect(lines).toHaveLength(to - from);
    for (let k = 0; k < lines.length; k++)
      if (seqOf(lines[k]!) !== from + k) expect(seqOf(lines[k]!)).toBe(from + k);
  };

  it('delivers 100,000 records exactly once and in order over TCP', async () => {
    const fake = await collector();
    const { stream, logger, stderr } = await appender({ address: fake.address, service: 'bulk' });
    logMany(logger, 0, 100_000);
    await close(stream);
    inOrder(fake.lines(), 0, 100_000);
    expect(stream.counters).toMatchObject({ acknowledged: 100_000, dropped: 0, queued: 0 });
    expect(fake.gaps).toBe(0);
    expect(stderr).toEqual([]);
  });

  it('delivers 100,000 records exactly once and in order over a Unix socket', async () => {
    const fake = await collector({ path: join(await tempDir(), 'c.sock') });
    const { stream, logger } = await appender({ address: fake.address, service: 'bulk' });
    logMany(logger, 0, 100_000);
    await close(stream);
    inOrder(fake.lines(), 0, 100_000);
  });

  it('loses and duplicates nothing when the collector restarts mid-stream', async () => {
    const fake = await collector();
    const { stream, logger } = await appender({
      address: fake.address,
      service: 'restart',
      window: 64 * 1024,
    });
    let restarted = false;
    fake.on('events', () => {
      if (!restarted && fake.written.length > 30_000) {
        restarted = true;
        void fake.restart();
      }
    });
    logMany(logger, 0, 100_000);
    await until(() => stream.counters.acknowledged === 100_000, [fake, stream], 'every ack', 20_000);
    await close(stream);
    expect(restarted).toBe(true);
    inOrder(fake.lines(), 0, 100_000);
    expect(fake.gaps).toBe(0);
    expect(stream.counters.reconnects).toBeGreaterThanOrEqual(1);
  });

  it('reports the unacknowledged count on stderr at close when the collector never acks', async () => {
    const fake = await collector();
    fake.acking = false;
    const { stream, logger, stderr } = await appender({
      address: fake.address,
      service: 's',
      closeTimeout: 200,
    });
    logMany(logger, 0, 500);
    await fake.waitFor(() => fake.written.length === 500);
    await close(stream);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(
      /^logwire appender: 500 records not acknowledged within closeTimeout \(200 ms; collector tcp\/127\.0\.0\.1:\d+ connected\) are lost\n$/,
    );
    expect(stream.counters.dropped).toBe(500);
  });

  it('writes what it could not deliver to the fallback file at close', async () => {
    const fake = await collector();
    fake.acking = false;
    const fallback = join(await tempDir(), 'dropped.ndjson');
    const { stream, logger, stderr } = await appender({
      address: fake.address,
      service: 's',
      closeTimeout: 100,
      fallback,
    });
    logMany(logger, 0, 50);
    await fake.waitFor(() => fake.written.length === 50);
    await close(stream);
    const lines = (await readFile(fallback, 'utf8')).split('\n').slice(0, -1);
    inOrder(lines, 0, 50);
    expect(stderr[0]).toContain(`were written to fallback ${fallback}`);
  });

  it('holds records while paused and sends them after UNPAUSE', async () => {
    const fake = await collector();
    const { stream, logger } = await appender({ address: fake.address, service: 'p' });
    logMany(logger, 0, 10);
    await until(() => stream.counters.acknowledged === 10, [fake, stream], 'first acks');
    fake.pause();
    await until(() => stream.state === 'paused', [stream], 'the pause');
    logMany(logger, 10, 1010);
    const flushed = new Promise<void>((resolve) => stream.flush(() => resolve()));
    // flush cut the batch at once; a paused sender numbers and sends nothing of it.
    expect(stream.counters).toMatchObject({ queued: 1000, acknowledged: 10, dropped: 0 });
    expect(fake.written).toHaveLength(10);
    fake.unpause();
    await flushed;
    expect(stream.counters).toMatchObject({ queued: 0, acknowledged: 1010, dropped: 0 });
    inOrder(fake.lines(), 0, 1010);
  });

  it('registers under a fresh source id after sequence_behind', async () => {
    const fake = await collector();
    fake.sequenceBehindOnce = true;
    const { stream, logger } = await appender({ address: fake.address, service: 'sb', source: 'web' });
    logMany(logger, 0, 100);
    await until(() => stream.counters.acknowledged === 100, [fake, stream], 'acks');
    const sources = fake.registers.map((r) => r.source);
    expect(sources).toHaveLength(2);
    expect(sources[0]).not.toBe(sources[1]);
    expect(sources[1]).toBe(stream.source);
    expect(stream.source).toMatch(/^web-[0-9a-f]{16}$/);
    inOrder(fake.lines(stream.source), 0, 100);
  });

  it("names the service after the first record's name", async () => {
    const fake = await collector();
    const stream = await createAppender(
      { address: fake.address, batch: { maxDelay: 1 } },
      { stderr: () => {} },
    );
    cleanup.push(() => close(stream));
    const logger = pino({ name: 'billing api' }, stream);
    logger.info('hello');
    await fake.waitFor(() => fake.registers.length === 1);
    expect(fake.registers[0]!.service).toBe('billing_api');
  });

  it('connects before the first record names the service, and registers the moment it does', async () => {
    const fake = await collector();
    const stderr: string[] = [];
    const stream = await createAppender(
      { address: fake.address, batch: { maxDelay: 1 }, backoff: [20] },
      { stderr: (text) => stderr.push(text) },
    );
    cleanup.push(() => close(stream));
    await fake.waitFor(() => fake.sessions === 1, 10_000, 'the early connection');
    expect(fake.registers).toEqual([]);
    expect(stream.state).toBe('connecting');
    // The link is up and idle: a collector dropping it is reconnected, still without REGISTER.
    await fake.restart();
    await fake.waitFor(() => fake.sessions === 1, 10_000, 'the reconnection');
    expect(fake.registers).toEqual([]);
    const logger = pino({ name: 'early' }, stream);
    for (let i = 0; i < 50; i++) logger.info({ i }, 'm');
    await fake.waitFor(() => fake.written.length === 50, 10_000, 'records');
    expect(fake.registers.map((r) => r.service)).toEqual(['early']);
    expect(stream.state).toBe('connected');
    expect(stderr).toEqual([]);
  });

  it('names the service from the first whole record of a chunk as it is written, before batching it', async () => {
    const fake = await collector();
    const { stream } = await appender({ address: fake.address });
    // Empty lines ahead, and over 64 KiB: the chunk is batched in a microtask, after write returns.
    stream.write(`\n\n${'{"name":"payments","i":0}\n'.repeat(4000)}`);
    expect(stream.service).toBe('payments');
    expect(stream.counters.queued).toBe(0); // not batched yet: the name came from the chunk itself
    await fake.waitFor(() => fake.written.length === 4000, 10_000, 'records');
    expect(fake.registers.map((r) => r.service)).toEqual(['payments']);
  });

  it('batches a large chunk after an I/O turn while READY is awaited, and in a microtask once connected', async () => {
    const fake = await collector();
    const { stream } = await appender({ address: fake.address });
    await fake.waitFor(() => fake.sessions === 1, 10_000, 'the early connection');
    const chunk = (from: number): string => {
      let text = '';
      for (let i = from; i < from + 4000; i++) text += `{"name":"turns","i":${i}}\n`;
      return text;
    };
    stream.write(chunk(0));
    expect(stream.state).toBe('connecting');
    await Promise.resolve();
    // Not batched before the poll phase: a READY already in the socket is read first.
    expect(stream.counters.queued).toBe(0);
    await fake.waitFor(() => fake.written.length === 4000, 10_000, 'the first records');
    await until(() => stream.state === 'connected', [fake, stream], 'connected');
    const before = stream.counters.queued;
    stream.write(chunk(4000));
    await Promise.resolve();
    expect(stream.counters.queued - before).toBe(4000);
    await fake.waitFor(() => fake.written.length === 8000, 10_000, 'the second records');
    expect(fake.registers.map((r) => r.service)).toEqual(['turns']);
  });

  it('names the service from a first record split across chunks once it is whole', async () => {
    const fake = await collector();
    const { stream } = await appender({ address: fake.address });
    stream.write('{"name":"pay');
    expect(stream.service).toBeUndefined();
    stream.write(`ments","i":0}\n${'{"name":"other","i":1}\n'.repeat(4000)}`);
    await fake.waitFor(() => fake.written.length === 4001, 10_000, 'records');
    expect(fake.registers.map((r) => r.service)).toEqual(['payments']);
  });

  it('closes at once, reporting nothing, when no record came while the early link was up', async () => {
    const fake = await collector();
    const { stream, stderr } = await appender({ address: fake.address });
    await fake.waitFor(() => fake.sessions === 1, 10_000, 'the early connection');
    await close(stream);
    await fake.waitFor(() => fake.sessions === 0, 10_000, 'the close');
    expect(fake.registers).toEqual([]);
    expect(stderr).toEqual([]);
  });

  it('calls flush back once what was written is acknowledged', async () => {
    const fake = await collector();
    const { stream, logger } = await appender({
      address: fake.address,
      service: 'f',
      batch: { maxDelay: 10_000 },
    });
    logMany(logger, 0, 1234);
    await new Promise<void>((resolve) => stream.flush(() => resolve()));
    expect(stream.counters.acknowledged).toBe(1234);
    expect(fake.written).toHaveLength(1234);
  });

  it('sends at once when nothing is in flight, and gathers records while a batch awaits its ACK', async () => {
    const fake = await collector();
    const counts: number[] = [];
    fake.on('events', (_source, _seq, count) => counts.push(count));
    // A batch timer that never fires (its clock is not advanced): only the idle cut can send.
    const clock = new ManualClock();
    const { stream, logger } = await appender(
      { address: fake.address, service: 'idle', batch: { maxDelay: 60_000 } },
      { clock },
    );
    await until(() => stream.state === 'connected', [stream], 'the session');
    logger.info({ i: 0 }, 'm');
    await until(() => stream.counters.acknowledged === 1, [fake, stream], 'the first record, acknowledged');
    fake.holdingAcks = true;
    logger.info({ i: 1 }, 'm');
    await until(() => fake.heldAcks.length === 1, [fake, stream], 'the second record');
    // Record 1 is unacknowledged: these wait for its ACK rather than going one by one.
    logMany(logger, 2, 5);
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.written).toHaveLength(2);
    fake.releaseAcks();
    await until(() => stream.counters.acknowledged === 5, [fake, stream], 'the records gathered meanwhile');
    inOrder(fake.lines(), 0, 5);
    expect(counts).toEqual([1, 1, 3]);
    const closed = once(stream, 'close');
    stream.end();
    await closed;
  });

  describe('with a spool', () => {
    it('keeps records logged while the collector is down, and a second appender ships them', async () => {
      const dir = await tempDir();
      const fake = await collector();
      await fake.stop();
      const first = await appender({ address: fake.address, service: 'sp', spool: dir, closeTimeout: 300 });
      logMany(first.logger, 0, 2000);
      await close(first.stream);
      expect(first.stream.counters.spooled).toBe(2000);
      expect(first.stderr.join('')).toMatch(/2000 records stay in spool/);
      await fake.listen();
      const second = await appender({ address: fake.address, service: 'sp', spool: dir });
      logMany(second.logger, 2000, 2100);
      await until(() => fake.written.length === 2100, [fake, second.stream], 'all records', 15_000);
      await close(second.stream);
      inOrder(fake.lines(), 0, 2100);
      expect(new Set(fake.written.map((r) => r.source)).size).toBe(1);
      expect(fake.gaps).toBe(0);
    });

    /**
     * Once the appender's spool is open (meta.json written), its first segment — opened at the
     * first write — is made /dev/full: every spool write fails with ENOSPC.
     */
    async function breakSpool(dir: string): Promise<void> {
      const { readdir, symlink } = await import('node:fs/promises');
      await eventually(async () => expect(await readdir(dir)).toContain('meta.json'));
      await symlink('/dev/full', join(dir, 'seg-0000000000000001.log'));
    }

    it('keeps number order and loses nothing when the spool fails while connected (review #1)', async () => {
      const dir = await tempDir();
      const fake = await collector();
      const { stream, logger } = await appender({
        address: fake.address,
        service: 'sf',
        spool: { dir, maxBytes: 4096 },
        batch: { maxRecords: 1, maxBytes: 1024, maxDelay: 0 },
      });
      await breakSpool(dir);
      logMany(logger, 0, 300);
      await until(() => fake.written.length === 300, [fake, stream], 'all records', 15_000);
      inOrder(fake.lines(), 0, 300);
      expect(fake.gaps).toBe(0);
      await close(stream);
      expect(stream.counters.acknowledged).toBe(300);
    });

    it('reports records as undelivered, not spooled, once the spool failed (review #2)', async () => {
      const dir = await tempDir();
      const fake = await collector();
      await fake.stop();
      const { stream, logger, stderr } = await appender({
        address: fake.address,
        service: 'sf2',
        spool: dir,
        closeTimeout: 300,
      });
      await breakSpool(dir);
      logMany(logger, 0, 50);
      await close(stream);
      const report = stderr.join('');
      expect(report).not.toMatch(/running without the spool/);
      expect(report).toMatch(/50 records not acknowledged within closeTimeout/);
      expect(report).not.toMatch(/records stay in spool/);
    });

    it("numbers against the last collector's max_body kept in the spool, so nothing is dropped (review #4)", async () => {
      const dir = await tempDir();
      const fake = await collector({ maxBody: 2048 });
      const first = await appender({
        address: fake.address,
        service: 'mb',
        spool: dir,
        batch: { maxBytes: 8192, maxDelay: 0 },
      });
      logMany(first.logger, 0, 10);
      await until(() => fake.written.length === 10, [fake, first.stream], 'first records');
      await close(first.stream);
      await fake.stop();
      // Batches of up to 8 KiB (records gather for 50 ms): four times the collector's limit.
      const second = await appender({
        address: fake.address,
        service: 'mb',
        spool: dir,
        batch: { maxBytes: 8192, maxDelay: 50 },
      });
      logMany(second.logger, 10, 400); // numbered into the spool before any READY of this run
      await until(() => second.stream.counters.spooled === 390, [second.stream], 'spooled');
      await fake.listen();
      await until(() => fake.written.length === 400, [fake, second.stream], 'every record', 15_000);
      inOrder(fake.lines(), 0, 400);
      expect(second.stream.counters.dropped).toBe(0);
      expect(fake.gaps).toBe(0);
    });

    it("sends whole a batch numbered over the collector's max_body: every record arrives once", async () => {
      const dir = await tempDir();
      const fake = await collector({ maxBody: 2048 });
      await fake.stop();
      // The spool's first run numbers batches before any READY: some of them over max_body.
      const { stream, logger } = await appender({
        address: fake.address,
        service: 'whole',
        spool: dir,
        batch: { maxBytes: 8192, maxDelay: 50 },
      });
      logMany(logger, 0, 400);
      await until(() => stream.counters.spooled === 400, [stream], 'spooled');
      await fake.listen();
      await until(() => stream.counters.acknowledged === 400, [stream, fake], 'every record acknowledged');
      await close(stream);
      expect(fake.largestBody).toBeGreaterThan(2048);
      expect(stream.counters.dropped).toBe(0);
      inOrder(fake.lines(), 0, 400);
      expect(fake.gaps).toBe(0);
    });

    it('runs without the spool, under a fresh id, when another appender holds it', async () => {
      const dir = await tempDir();
      const fake = await collector();
      const holder = await appender({ address: fake.address, service: 'a', spool: dir });
      const other = await appender({ address: fake.address, service: 'a', spool: dir });
      expect(other.stderr.join('')).toMatch(/running without the spool/);
      expect(other.stream.source).not.toBe(holder.stream.source);
    });
  });

  describe('over UDP', () => {
    it('delivers records, drops and counts one too large for a datagram, never sends an empty one', async () => {
      const udp = await FakeUdpCollector.start();
      cleanup.push(() => udp.close());
      const fallback = join(await tempDir(), 'dropped.ndjson');
      const { stream, logger } = await appender({
        address: udp.address,
        service: 'u',
        udp: { maxDatagram: 1024 },
        fallback,
      });
      logMany(logger, 0, 100);
      logger.info({ i: -1, big: 'x'.repeat(2000) }, 'too big');
      logMany(logger, 100, 200);
      await udp.waitFor(() => udp.lines.length === 200);
      await close(stream);
      inOrder(udp.lines, 0, 200);
      expect(udp.empty).toBe(0);
      for (const { size, msg } of udp.datagrams) {
        expect(size).toBeLessThanOrEqual(1024);
        expect(msg.params).toMatchObject({ source: stream.source, service: 'u' });
      }
      expect(stream.counters.dropped).toBe(1);
      expect(await readFile(fallback, 'utf8')).toContain('"big":"xxx');
    });
  });

  it('ships plain NDJSON with protocol ndjson', async () => {
    const received: Buffer[] = [];
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', (chunk) => received.push(chunk));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(
      () =>
        new Promise((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(resolve);
        }),
    );
    const port = (server.address() as { port: number }).port;
    const { stream, logger } = await appender({ address: `ndjson/127.0.0.1:${port}`, service: 'n' });
    logMany(logger, 0, 5000);
    await close(stream);
    const lines = Buffer.concat(received).toString().split('\n').slice(0, -1);
    inOrder(lines, 0, 5000);
    expect(stream.counters.sent).toBe(5000);
  });

  it('keeps logging without blocking, within its queue bound, while the collector is down', async () => {
    const fake = await collector();
    await fake.stop();
    const { stream, logger, stderr } = await appender({
      address: fake.address,
      service: 'down',
      queue: { maxBytes: 512 * 1024 },
      closeTimeout: 50,
    });
    const writes: boolean[] = [];
    const write = stream.write.bind(stream);
    let blocked = 0;
    stream.write = ((chunk: string) => {
      const ok = write(chunk);
      if (!ok) blocked += 1;
      writes.push(ok);
      return ok;
    }) as typeof stream.write;
    logMany(logger, 0, 50_000);
    const { queued, dropped } = stream.counters;
    expect(blocked).toBe(0);
    expect(queued + dropped).toBe(50_000);
    // Each line is at least 28 bytes: the queue holds at most 512 KiB of them.
    expect(dropped).toBeGreaterThan(30_000);
    expect(queued * 28).toBeLessThanOrEqual(512 * 1024);
    await close(stream);
    expect(stderr.join('')).toMatch(
      /records were dropped \(\d+ by the queue's overflow policy, 0 too large\)/,
    );
  });

  describe('a full queue while a session takes records', () => {
    const line = (i: number): string => `{"i":${i}}\n`;

    /** Closes with time moving on the manual clock (closeTimeout runs on it), one turn at a time. */
    async function closeOn(clock: ManualClock, stream: Appender): Promise<void> {
      const closed = once(stream, 'close');
      stream.end();
      while (!stream.closed) {
        clock.advance(1000);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await closed;
    }

    /** Writes records until a write is held (false); returns how many were written. */
    function writeUntilHeld(stream: Appender, from: number, max: number): number {
      for (let i = from; i < max; i++) if (!stream.write(line(i))) return i + 1 - from;
      return max - from;
    }

    async function connected(options: Record<string, unknown>, deps: AppenderDeps = {}) {
      const fake = await collector();
      const made = await appender(
        {
          address: fake.address,
          service: 'hold',
          queue: { maxBytes: 16 * 1024 },
          window: 4096,
          batch: { maxBytes: 1024, maxDelay: 0 },
          ...options,
        },
        deps,
      );
      await until(() => made.stream.state === 'connected', [made.stream], 'the session');
      return { fake, ...made };
    }

    it('holds the input (write says wait) instead of dropping, and delivers everything', async () => {
      // The hold's limits run on this clock, which stands still: a loaded machine that starves
      // the loop for a second cannot end the hold and let the queue's policy drop records.
      const { fake, stream } = await connected({}, { clock: new ManualClock() });
      const results: boolean[] = [];
      for (let i = 0; i < 20_000; i++) results.push(stream.write(line(i)));
      expect(results).toContain(false);
      await until(() => stream.counters.acknowledged === 20_000, [fake, stream], 'every record');
      expect(stream.counters.dropped).toBe(0);
      inOrder(fake.lines(), 0, 20_000);
    });

    it('closing drops nothing: a large chunk still deferred at end() is delivered whole, over the bound', async () => {
      const { fake, stream } = await connected({});
      let chunk = '';
      for (let i = 0; i < 20_000; i++) chunk += line(i); // about 200 KiB: batched a moment later
      stream.write(chunk);
      await close(stream);
      expect(stream.counters.dropped).toBe(0);
      expect(stream.counters.acknowledged).toBe(20_000);
      inOrder(fake.lines(), 0, 20_000);
    });

    it('holds while the session opens too: a burst before READY waits, nothing is dropped', async () => {
      const fake = await collector();
      fake.holdingReady = true;
      const { stream } = await appender({
        address: fake.address,
        service: 'hold',
        queue: { maxBytes: 16 * 1024 },
        window: 4096,
        batch: { maxBytes: 1024, maxDelay: 0 },
      });
      await until(() => fake.heldReady.length > 0, [fake, stream], 'REGISTER');
      const written = writeUntilHeld(stream, 0, 20_000);
      expect(written).toBeLessThan(20_000);
      expect(stream.counters.dropped).toBe(0);
      fake.releaseReady();
      for (let from = written; from < 20_000; ) {
        const drained = once(stream, 'drain');
        await drained;
        from += writeUntilHeld(stream, from, 20_000);
      }
      await until(() => stream.counters.acknowledged === 20_000, [fake, stream], 'every record');
      expect(stream.counters.dropped).toBe(0);
      inOrder(fake.lines(), 0, 20_000);
    });

    for (const overflow of ['drop-oldest', 'drop-newest'] as const) {
      it(`'${overflow}' applies once the hold has lasted HOLD_LIMIT_MS without the queue draining`, async () => {
        const clock = new ManualClock();
        const { fake, stream } = await connected({ queue: { maxBytes: 16 * 1024, overflow } }, { clock });
        fake.acking = false;
        const written = writeUntilHeld(stream, 0, 100_000);
        expect(written).toBeLessThan(100_000);
        expect(stream.counters.dropped).toBe(0);
        const drained = once(stream, 'drain');
        clock.advance(HOLD_LIMIT_MS - 1);
        expect(stream.counters.dropped).toBe(0);
        clock.advance(1);
        await drained;
        expect(stream.counters.dropped).toBeGreaterThan(0);
        // The policy now applies at once: input is taken (and dropped), never held.
        const before = stream.counters.dropped;
        expect(writeUntilHeld(stream, written, written + 2000)).toBe(2000);
        expect(stream.counters.dropped).toBeGreaterThan(before);
        await closeOn(clock, stream);
      });
    }

    it('stops holding at once when the session goes away: the policy applies', async () => {
      const { fake, stream } = await connected({});
      fake.acking = false;
      writeUntilHeld(stream, 0, 100_000);
      expect(stream.counters.dropped).toBe(0);
      const drained = once(stream, 'drain');
      await fake.stop();
      await drained;
      expect(stream.counters.dropped).toBeGreaterThan(0);
    });
  });

  it("takes a chunk as large as pino's worker hands over at once: write says more, flush covers it", async () => {
    const fake = await collector();
    const { stream } = await appender({ address: fake.address, service: 'big' });
    let chunk = '';
    for (let i = 0; i < 8000; i++) chunk += `{"i":${i}}\n`;
    expect(chunk.length).toBeGreaterThan(64 * 1024);
    // Over the stream's high-water mark, yet taken at once (batched a moment later): the
    // worker need not wait for 'drain' before it hands over the next chunk.
    expect(stream.write(chunk)).toBe(true);
    expect(stream.write('{"i":8000}\n')).toBe(true);
    await new Promise<void>((resolve) => stream.flush(() => resolve()));
    expect(stream.counters.acknowledged).toBe(8001);
    inOrder(fake.lines(), 0, 8001);
  });

  it("with overflow 'block', stops taking input instead of dropping, and goes on once delivered", async () => {
    const fake = await collector();
    await fake.stop();
    const { stream } = await appender({
      address: fake.address,
      service: 'blk',
      queue: { maxBytes: 4096, overflow: 'block' },
      batch: { maxBytes: 1024, maxDelay: 0 },
    });
    const results: boolean[] = [];
    for (let i = 0; i < 2000; i++) results.push(stream.write(`{"i":${i}}\n`));
    expect(results.at(-1)).toBe(false);
    expect(stream.counters.queued).toBeLessThan(2000);
    const drained = once(stream, 'drain');
    await fake.listen();
    await drained;
    await until(() => stream.counters.acknowledged === 2000, [fake, stream], 'every record');
    expect(stream.counters.dropped).toBe(0);
    inOrder(fake.lines(), 0, 2000);
  });

  it("with overflow 'block' and the collector down, end() still closes within closeTimeout and reports (review #3)", async () => {
    const fake = await collector();
    await fake.stop();
    const { stream, stderr } = await appender({
      address: fake.address,
      service: 'blk-end',
      queue: { maxBytes: 4096, overflow: 'block' },
      batch: { maxBytes: 1024, maxDelay: 0 },
      closeTimeout: 300,
    });
    for (let i = 0; i < 2000; i++) stream.write(`{"i":${i}}\n`);
    await close(stream);
    expect(stderr.join('')).toMatch(/records not acknowledged within closeTimeout/);
  });

  it('obeys no control command from the collector (PROTOCOL.md §5)', async () => {
    const fake = await collector();
    const { stream, logger } = await appender({ address: fake.address, service: 'ctl' });
    logMany(logger, 0, 10);
    await until(() => fake.written.length === 10, [fake, stream], 'first records');
    for (const command of ['STOP', 'QUIT', 'LOG', 'RELOAD']) fake.broadcast(message(command));
    logMany(logger, 10, 20);
    await until(() => fake.written.length === 20, [fake, stream], 'the rest');
    await close(stream);
    inOrder(fake.lines(), 0, 20);
    expect(stream.counters).toMatchObject({ acknowledged: 20, dropped: 0, reconnects: 0 });
  });

  it('never emits error: a write after end is counted, not thrown', async () => {
    const fake = await collector();
    const { stream } = await appender({ address: fake.address, service: 'late' });
    let errors = 0;
    stream.on('error', () => {
      errors += 1;
    });
    await close(stream);
    stream.write('{"late":1}\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toBe(0);
    expect(stream.counters.dropped).toBe(1);
  });

  it('is the default export pino loads, resolving before any connection', async () => {
    const stream = await logwireAppender({ address: 'tcp/127.0.0.1:9', service: 'x', closeTimeout: 0 });
    expect(typeof stream.write).toBe('function');
    expect(typeof stream.flush).toBe('function');
    const closed = once(stream, 'close');
    stream.end();
    await closed;
  });
});
