import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../shared/net/clock.js';
import { Timers } from '../../../shared/net/timers.js';

describe('Timers', () => {
  it('runs each named timer once, when due', () => {
    const clock = new ManualClock();
    const timers = new Timers(clock);
    const log: string[] = [];
    timers.set('flush', 10, () => log.push('flush'));
    timers.set('heartbeat', 30, () => log.push('heartbeat'));
    expect(timers.has('flush')).toBe(true);
    clock.advance(10);
    expect(log).toEqual(['flush']);
    expect(timers.has('flush')).toBe(false);
    expect(timers.has('heartbeat')).toBe(true);
    clock.advance(100);
    expect(log).toEqual(['flush', 'heartbeat']);
  });

  it('replaces a pending timer of the same name', () => {
    const clock = new ManualClock();
    const timers = new Timers(clock);
    const log: string[] = [];
    timers.set('ack', 10, () => log.push('first'));
    clock.advance(5);
    timers.set('ack', 10, () => log.push('second'));
    clock.advance(9);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual(['second']);
    expect(clock.pending).toBe(0);
  });

  it('clears one timer and leaves the others', () => {
    const clock = new ManualClock();
    const timers = new Timers(clock);
    let reconnects = 0;
    let flushes = 0;
    timers.set('reconnect', 10, () => reconnects++);
    timers.set('flush', 10, () => flushes++);
    timers.clear('reconnect');
    timers.clear('never-set');
    clock.advance(10);
    expect([reconnects, flushes]).toEqual([0, 1]);
  });

  it('clears all and stays usable', () => {
    const clock = new ManualClock();
    const timers = new Timers(clock);
    let runs = 0;
    for (const name of ['a', 'b', 'c']) timers.set(name, 5, () => runs++);
    timers.clearAll();
    expect(clock.pending).toBe(0);
    expect(['a', 'b', 'c'].some((name) => timers.has(name))).toBe(false);
    timers.set('a', 5, () => runs++);
    clock.advance(5);
    expect(runs).toBe(1);
  });

  it('lets a callback set its own name again, as a heartbeat does', () => {
    const clock = new ManualClock();
    const timers = new Timers(clock);
    const beats: number[] = [];
    const beat = () => {
      expect(timers.has('heartbeat')).toBe(false);
      beats.push(clock.now());
      if (beats.length < 3) timers.set('heartbeat', 100, beat);
    };
    timers.set('heartbeat', 100, beat);
    clock.advance(1000);
    expect(beats).toEqual([100, 200, 300]);
    expect(timers.has('heartbeat')).toBe(false);
  });

  it('keeps a timer that a callback set under another name', () => {
    const clock = new ManualClock();
    const timers = new Timers(clock);
    let acks = 0;
    timers.set('connect', 10, () => timers.set('ack', 10, () => acks++));
    clock.advance(10);
    expect(timers.has('ack')).toBe(true);
    clock.advance(10);
    expect(acks).toBe(1);
  });
});
