import { describe, expect, it } from 'vitest';
import { IngestRate } from '../../../collector/access/ingest-rate.js';
import { ManualClock } from '../../../shared/net/clock.js';

function rated(bytes: number, perMs: number) {
  const clock = new ManualClock();
  const events: string[] = [];
  const rate = new IngestRate({ bytes, perMs }, clock, {
    hold: () => events.push('hold'),
    release: () => events.push('release'),
    onHeld: () => events.push('held'),
  });
  return { clock, events, rate };
}

describe('IngestRate', () => {
  it('reads freely within the rate', () => {
    const { clock, events, rate } = rated(1000, 100);
    rate.received(600);
    rate.received(400);
    expect(rate.state).toBe('reading');
    clock.advance(100);
    rate.received(1000);
    expect(events).toEqual([]);
  });

  it('holds a peer over its rate until what it sent is paid off, then reads again', () => {
    const { clock, events, rate } = rated(1000, 100);
    rate.received(1000);
    rate.received(500); // 500 bytes over: 50 ms at 1000 bytes per 100 ms
    expect(rate.state).toBe('held');
    expect(events).toEqual(['hold', 'held']);
    clock.advance(49);
    expect(rate.state).toBe('held');
    clock.advance(1);
    expect(rate.state).toBe('reading');
    expect(events).toEqual(['hold', 'held', 'release']);
  });

  it('waits out bytes that arrived while held before reading again', () => {
    const { clock, events, rate } = rated(1000, 100);
    rate.received(1500);
    rate.received(1000); // already on its way when reading stopped: 150 ms of debt in all
    clock.advance(50);
    expect(rate.state).toBe('held');
    clock.advance(99);
    expect(rate.state).toBe('held');
    clock.advance(1);
    expect(rate.state).toBe('reading');
    expect(events.filter((e) => e === 'release')).toHaveLength(1);
  });

  it('clears its timer when the connection closes while held', () => {
    const { clock, events, rate } = rated(10, 10);
    rate.received(100);
    rate.close();
    expect(clock.pending).toBe(0);
    clock.advance(1000);
    expect(events).toEqual(['hold', 'held']);
    expect(rate.state).toBe('closed');
  });
});
