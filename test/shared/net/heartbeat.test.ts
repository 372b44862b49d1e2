import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../shared/net/clock.js';
import { Heartbeat } from '../../../shared/net/heartbeat.js';
import { Timers } from '../../../shared/net/timers.js';
import { type Message, message } from '../../../shared/protocol/message.js';

function setup(options = { idle: 1000, timeout: 500 }) {
  const clock = new ManualClock();
  const sent: Message[] = [];
  let deaths = 0;
  const heartbeat = new Heartbeat(options, new Timers(clock), clock, {
    send: (msg) => sent.push(msg),
    dead: () => deaths++,
  });
  return { clock, sent, heartbeat, deaths: () => deaths };
}

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
});
