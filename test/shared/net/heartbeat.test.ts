import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../shared/net/clock.js';
import { Heartbeat, type HeartbeatOptions } from '../../../shared/net/heartbeat.js';
import { Timers } from '../../../shared/net/timers.js';
import { type Message, message } from '../../../shared/protocol/message.js';

function setup(options: HeartbeatOptions = { idle: 1000, timeout: 500 }) {
  const clock = new ManualClock();
  const sent: Message[] = [];
  const silences: number[] = [];
  const heartbeat = new Heartbeat(options, new Timers(clock), clock, {
    send: (msg) => sent.push(msg),
    dead: (silentMs) => silences.push(silentMs),
  });
  return { clock, sent, heartbeat, deaths: () => silences.length, silences };
}

/** Idle spans of 30 s, and 2 s while answers are awaited. */
const AWAITING: HeartbeatOptions = { idle: 30_000, timeout: 30_000, awaiting: { idle: 2000, timeout: 2000 } };

const lines = (msgs: readonly Message[]) => msgs.map((m) => `${m.command} ${m.params.serial ?? ''}`.trim());

describe('Heartbeat', () => {
  it('sends ALIVE after idle and declares the peer dead after the timeout', () => {
    const { clock, sent, heartbeat, deaths } = setup();
    heartbeat.start();
    clock.advance(999);
    expect(sent).toEqual([]);
    clock.advance(1);
    expect(lines(sent)).toEqual(['ALIVE 1']);
    clock.advance(499);
    expect(deaths()).toBe(0);
    clock.advance(1);
    expect(deaths()).toBe(1);
    clock.advance(10_000);
    expect(sent).toHaveLength(1);
  });

  it('counts any message as life and measures idle from the last one', () => {
    const { clock, sent, heartbeat } = setup();
    heartbeat.start();
    clock.advance(600);
    expect(heartbeat.receive(message('ACK', { seq: 1 }))).toBe(false);
    clock.advance(999);
    expect(sent).toEqual([]);
    clock.advance(1);
    expect(lines(sent)).toEqual(['ALIVE 1']);
  });

  it('lives on when anything arrives within the timeout, and consumes its own ABSOLUTELY', () => {
    const { clock, sent, heartbeat, deaths } = setup();
    heartbeat.start();
    clock.advance(1000);
    expect(heartbeat.receive(message('ABSOLUTELY', { serial: 1 }))).toBe(true);
    clock.advance(500);
    expect(deaths()).toBe(0);
    clock.advance(500);
    expect(lines(sent)).toEqual(['ALIVE 1', 'ALIVE 2']);
    expect(heartbeat.receive(message('EVENTS'))).toBe(false);
    clock.advance(500);
    expect(deaths()).toBe(0);
    // An ABSOLUTELY that answers no ALIVE of ours is the layer above's business.
    expect(heartbeat.receive(message('ABSOLUTELY', { serial: 99 }))).toBe(false);
    expect(heartbeat.receive(message('ABSOLUTELY', { serial: 1 }))).toBe(false);
  });

  it("answers the peer's ALIVE, echoing its serial when it has one", () => {
    const { sent, heartbeat } = setup();
    heartbeat.start();
    expect(heartbeat.receive(message('ALIVE', { serial: 'x7' }))).toBe(true);
    expect(heartbeat.receive(message('ALIVE'))).toBe(true);
    expect(lines(sent)).toEqual(['ABSOLUTELY x7', 'ABSOLUTELY']);
  });

  it('only answers, never sends ALIVE, without options', () => {
    const clock = new ManualClock();
    const sent: Message[] = [];
    const heartbeat = new Heartbeat(undefined, new Timers(clock), clock, {
      send: (m) => sent.push(m),
      dead: () => {},
    });
    heartbeat.start();
    clock.advance(1_000_000);
    expect(clock.pending).toBe(0);
    heartbeat.receive(message('ALIVE', { serial: 1 }));
    expect(lines(sent)).toEqual(['ABSOLUTELY 1']);
  });

  it('does nothing once stopped', () => {
    const { clock, sent, heartbeat, deaths } = setup();
    heartbeat.start();
    clock.advance(1000);
    heartbeat.stop();
    clock.advance(10_000);
    expect(deaths()).toBe(0);
    expect(heartbeat.receive(message('ALIVE'))).toBe(true);
    expect(lines(sent)).toEqual(['ALIVE 1']);
  });

  describe('#awaiting', () => {
    it('takes a half-open link for dead after the awaiting spans, counted from when answers became due', () => {
      const { clock, sent, heartbeat, silences } = setup(AWAITING);
      heartbeat.start();
      clock.advance(20_000); // quiet, nothing awaited: no ALIVE yet
      expect(sent).toEqual([]);
      heartbeat.awaiting(true);
      clock.advance(1999);
      expect(sent).toEqual([]);
      clock.advance(1);
      expect(lines(sent)).toEqual(['ALIVE 1']);
      clock.advance(1999);
      expect(silences).toEqual([]);
      clock.advance(1);
      expect(silences).toEqual([4000]);
    });

    it('lives on while answers keep coming, and goes back to the idle spans when all are in', () => {
      const { clock, sent, heartbeat, deaths } = setup(AWAITING);
      heartbeat.start();
      heartbeat.awaiting(true);
      for (let i = 0; i < 10; i++) {
        clock.advance(1500);
        heartbeat.receive(message('ACK', { seq: i + 1 }));
      }
      expect(sent).toEqual([]);
      heartbeat.awaiting(false);
      clock.advance(29_999);
      expect(sent).toEqual([]);
      clock.advance(1);
      expect(lines(sent)).toEqual(['ALIVE 1']);
      expect(deaths()).toBe(0);
    });

    it('lives on when the ALIVE sent while awaiting is answered', () => {
      const { clock, sent, heartbeat, deaths } = setup(AWAITING);
      heartbeat.start();
      heartbeat.awaiting(true);
      clock.advance(2000);
      expect(heartbeat.receive(message('ABSOLUTELY', { serial: 1 }))).toBe(true);
      clock.advance(2000);
      expect(deaths()).toBe(0);
      // Still awaiting and silent since the answer: the next probe.
      clock.advance(2000);
      expect(lines(sent)).toEqual(['ALIVE 1', 'ALIVE 2']);
    });

    it('doubles the awaiting spans for each link given up, up to the idle ones, until all is answered', () => {
      const { clock, heartbeat, silences } = setup(AWAITING);
      for (let link = 0; link < 6; link++) {
        heartbeat.start();
        heartbeat.awaiting(true);
        clock.advance(60_000);
      }
      expect(silences).toEqual([4000, 8000, 16_000, 32_000, 60_000, 60_000]);
      heartbeat.start();
      heartbeat.awaiting(true);
      heartbeat.awaiting(false); // everything answered: back to the first spans
      heartbeat.awaiting(true);
      clock.advance(60_000);
      expect(silences.at(-1)).toBe(4000);
    });

    it('changes nothing without awaiting spans', () => {
      const { clock, sent, heartbeat } = setup();
      heartbeat.start();
      heartbeat.awaiting(true);
      clock.advance(999);
      expect(sent).toEqual([]);
      clock.advance(1);
      expect(lines(sent)).toEqual(['ALIVE 1']);
    });
  });
});
