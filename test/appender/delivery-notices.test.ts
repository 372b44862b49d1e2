import { once } from 'node:events';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createAppender } from '../../appender/appender.js';
import { DeliveryNotices, UNREACHABLE_WARN_MS } from '../../appender/delivery-notices.js';
import { ManualClock } from '../../shared/net/clock.js';
import type { ClientStatus } from '../../shared/net/permanent-client.js';
import { formatAddress } from '../../shared/protocol/address.js';
import { refusedAddress } from '../helpers/loopback-peer.js';

const ADDRESS = 'tcp/127.0.0.1:4043';
const refused = new Error('connect ECONNREFUSED 127.0.0.1:4043');
const down: ClientStatus = { state: 'disconnected', error: refused, retryIn: 100 };
const up = { state: 'connected' } as ClientStatus;

function setup(drained = false) {
  const clock = new ManualClock();
  const lines: string[] = [];
  const notices = new DeliveryNotices({
    clock,
    stderr: (line) => lines.push(line),
    address: ADDRESS,
    waiting: () => 42,
    delivered: () => drained,
  });
  return { clock, lines, notices };
}

describe('DeliveryNotices', () => {
  describe('while running', () => {
    it('warns once when the collector stays unreachable, however many retries fail', () => {
      const { clock, lines, notices } = setup();
      notices.status(down);
      clock.advance(UNREACHABLE_WARN_MS - 1);
      expect(lines).toEqual([]);
      for (let i = 0; i < 20; i++) {
        notices.status({ state: 'connecting' } as ClientStatus);
        notices.status(down);
        clock.advance(1000);
      }
      expect(lines).toEqual([
        `logwire appender: collector ${ADDRESS} unreachable for 5 s (${refused.message}); 42 records waiting, still trying\n`,
      ]);
    });

    it('says when it is back, and warns again only after another outage as long', () => {
      const { clock, lines, notices } = setup();
      notices.status(down);
      clock.advance(UNREACHABLE_WARN_MS + 2500);
      notices.status(up);
      expect(lines[1]).toBe(`logwire appender: collector ${ADDRESS} reachable again after 7.5 s\n`);
      notices.status(down);
      clock.advance(UNREACHABLE_WARN_MS - 1);
      notices.status(up);
      clock.advance(UNREACHABLE_WARN_MS * 10);
      expect(lines).toHaveLength(2);
    });

    it('says nothing for a short outage', () => {
      const { clock, lines, notices } = setup();
      notices.status(down);
      clock.advance(UNREACHABLE_WARN_MS - 1);
      notices.status(up);
      clock.advance(UNREACHABLE_WARN_MS * 10);
      expect(lines).toEqual([]);
    });
  });

  describe('#closing', () => {
    it('says at once that it waits, for whom, how long and for how many records', () => {
      const { lines, notices } = setup();
      notices.status(down);
      notices.closing(8000);
      expect(lines).toEqual([
        `logwire appender: waiting up to 8000 ms (closeTimeout) for collector ${ADDRESS} (not connected: ${refused.message}) to take 42 records\n`,
      ]);
      notices.status(down);
      expect(lines).toHaveLength(1);
    });

    it('says it when the first connect fails during the wait, and not while it may still succeed', () => {
      const { lines, notices } = setup();
      notices.status({ state: 'connecting' } as ClientStatus);
      notices.closing(8000);
      expect(lines).toEqual([]);
      notices.status(down);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^logwire appender: waiting up to 8000 ms/);
    });

    it('says nothing when there is nothing to wait for (all delivered, or spooled)', () => {
      const { lines, notices } = setup(true);
      notices.status(down);
      notices.closing(8000);
      expect(lines).toEqual([]);
    });

    it('names a paused collector', () => {
      const { lines, notices } = setup();
      notices.status({ state: 'paused' } as ClientStatus);
      notices.closing(500);
      expect(lines[0]).toMatch(/\(paused\) to take 42 records/);
    });
  });
});

describe('the appender with the collector down', () => {
  const streams: { end(): void; closed: boolean }[] = [];
  afterEach(() => {
    for (const stream of streams.splice(0)) if (!stream.closed) stream.end();
  });

  it('says on stderr that it is waiting as soon as closing starts, long before closeTimeout', async () => {
    const clock = new ManualClock();
    const lines: string[] = [];
    const address = formatAddress(await refusedAddress());
    const stream = await createAppender(
      { address, service: 'down', closeTimeout: 8000, backoff: [60_000] },
      { clock, stderr: (line) => lines.push(line) },
    );
    streams.push(stream);
    const logger = pino({ base: undefined, timestamp: false }, stream);
    for (let i = 0; i < 10; i++) logger.info({ i }, 'm');
    await new Promise<void>((resolve) =>
      stream.once('status', (s) => s.state === 'disconnected' && resolve()),
    );
    const closed = once(stream, 'close');
    stream.end();
    await new Promise<void>((resolve) => {
      const check = (): void => (lines.length > 0 ? resolve() : void setImmediate(check));
      check();
    });
    // No time has passed on the appender's clock: the line came before any of the wait did.
    expect(clock.now()).toBe(0);
    expect(stream.closed).toBe(false);
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^logwire appender: waiting up to 8000 ms \\(closeTimeout\\) for collector ${address} \\(not connected: .*ECONNREFUSED.*\\) to take 10 records\\n$`,
        ),
      ),
    ]);
    clock.advance(8000);
    await closed;
    expect(lines[1]).toMatch(/10 records not acknowledged within closeTimeout/);
  });
});
