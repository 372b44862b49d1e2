import { describe, expect, it } from 'vitest';
import { UdpLossCounter } from '../../../collector/checkpoint/checkpoint-udp.js';

describe('UdpLossCounter', () => {
  it('counts gaps, not late or repeated datagrams', () => {
    const udp = new UdpLossCounter();
    expect(udp.note('a', 1, 10)).toBe(0);
    expect(udp.note('a', 11, 5)).toBe(0);
    expect(udp.note('a', 20, 1)).toBe(4); // 16..19 missing
    expect(udp.note('a', 16, 2)).toBe(0); // late: not a loss, not counted twice
    expect(udp.note('a', 21, 1)).toBe(0);
    expect(udp.note('b', 100, 1)).toBe(0); // the first datagram seen sets the start
    expect(udp.lost).toBe(4);
  });

  it('forgets the oldest source beyond its bound', () => {
    const udp = new UdpLossCounter(2);
    udp.note('a', 1, 1);
    udp.note('b', 1, 1);
    udp.note('c', 1, 1); // forgets a
    expect(udp.note('a', 5, 1)).toBe(0);
    expect(udp.note('c', 5, 1)).toBe(3);
  });
});
