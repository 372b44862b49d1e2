import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../shared/net/clock.js';
import { Messenger } from '../../../shared/net/messenger.js';
import { Outlet, type OutletSource } from '../../../shared/net/outlet.js';
import { RateLimit } from '../../../shared/net/rate-limit.js';
import { Timers } from '../../../shared/net/timers.js';
import { message } from '../../../shared/protocol/message.js';
import { FakeLink } from '../../helpers/fake-link.js';

/** A source of `count` EVENTS of `bytes` body bytes each, numbered from 0. */
function source(count: number, bytes = 100) {
  const pumps: [written: number, full: boolean][] = [];
  let next = 0;
  const src: OutletSource & { readonly taken: number; readonly pumps: typeof pumps } = {
    get taken() {
      return next;
    },
    pumps,
    nextCost: () => (next < count ? bytes : undefined),
    writeNext: (messenger) => messenger.send(message('EVENTS', { n: next++ }, Buffer.alloc(bytes, 0x61))),
    pumped: (written, full) => pumps.push([written, full]),
  };
  return src;
}

function outlet(src: OutletSource, rate?: RateLimit, writable = () => true) {
  const clock = new ManualClock();
  const timers = new Timers(clock);
  return { clock, timers, outlet: new Outlet(src, { rate, timers, timer: 'rate', writable }) };
}

describe('Outlet', () => {
  describe('#pump', () => {
    it('writes nothing without a link, and everything once one is attached', () => {
      const src = source(3);
      const { outlet: out } = outlet(src);
      out.pump();
      expect(src.taken).toBe(0);
      const link = new FakeLink();
      out.attach(new Messenger(link));
      out.pump();
      expect(src.taken).toBe(3);
      expect(link.writes).toHaveLength(3);
      expect(src.pumps).toEqual([[3, false]]);
    });

    it('writes nothing while the link is not writable (handshake, pause)', () => {
      const src = source(2);
      let writable = false;
      const { outlet: out } = outlet(src, undefined, () => writable);
      out.attach(new Messenger(new FakeLink()));
      out.pump();
      expect(src.taken).toBe(0);
      writable = true;
      out.pump();
      expect(src.taken).toBe(2);
    });

    it('stops at a full link and goes on at its drain, taking nothing meanwhile', () => {
      const src = source(5);
      const { outlet: out } = outlet(src);
      const link = new FakeLink();
      link.room = false;
      out.attach(new Messenger(link));
      out.pump();
      expect(src.taken).toBe(1);
      expect(out.full).toBe(true);
      out.pump();
      expect(src.taken).toBe(1);
      link.drain();
      expect(src.taken).toBe(5);
      expect(out.full).toBe(false);
    });

    it('waits on its timer for the rate limit, then goes on by itself', () => {
      const clock = new ManualClock();
      const src = source(4, 500);
      const timers = new Timers(clock);
      const out = new Outlet(src, {
        rate: new RateLimit({ bytes: 1000, perMs: 100 }, clock),
        timers,
        timer: 'rate',
        writable: () => true,
      });
      out.attach(new Messenger(new FakeLink()));
      out.pump();
      expect(src.taken).toBe(2); // the bucket starts full
      expect(out.waiting).toBe(true);
      clock.advance(50);
      expect(src.taken).toBe(3);
      clock.advance(50);
      expect(src.taken).toBe(4);
    });

    it('ignores the drain of a link it was detached from', () => {
      const src = source(3);
      const { outlet: out } = outlet(src);
      const old = new FakeLink();
      old.room = false;
      out.attach(new Messenger(old));
      out.pump();
      expect(src.taken).toBe(1);
      out.detach();
      old.drain();
      expect(src.taken).toBe(1);
    });
  });
});
