/**
 * Log lines about bad input, limited per peer per interval, with what was held back said once
 * when the interval ends (an injected clock drives the intervals).
 */

import { describe, expect, it } from 'vitest';
import type { CollectorLog } from '../../../collector/config/config-types.js';
import { PeerLogLimit } from '../../../collector/intake/peer-log-limit.js';
import type { PeerInfo } from '../../../shared/protocol/peer.js';

function capture(): { log: CollectorLog; lines: Array<[string, Record<string, unknown> | undefined]> } {
  const lines: Array<[string, Record<string, unknown> | undefined]> = [];
  const push = (msg: string, fields?: Record<string, unknown>) => lines.push([msg, fields]);
  return { log: { info: push, warn: push, error: push, trace: push }, lines };
}

const udp = (remote: string): PeerInfo => ({ transport: 'udp', remote, local: false, secure: false });

describe('PeerLogLimit', () => {
  it('logs at most perInterval lines per peer, then one summary when the interval ends', () => {
    let now = 1_000;
    const { log, lines } = capture();
    const limit = new PeerLogLimit(log, { perInterval: 3, intervalMs: 60_000, clock: () => now });
    for (let i = 0; i < 50; i++) limit.warn(udp(`10.0.0.7:${4000 + i}`), `bad datagram ${i}`);
    // Other source ports of the same host are the same peer.
    expect(lines.map(([msg]) => msg)).toEqual(['bad datagram 0', 'bad datagram 1', 'bad datagram 2']);
    expect(lines[0]![1]).toEqual({ peer: 'udp/10.0.0.7' });
    now += 59_999;
    limit.flush();
    expect(lines).toHaveLength(3);
    now += 1;
    limit.flush();
    expect(lines[3]).toEqual([
      'suppressed 47 more lines about bad input from udp/10.0.0.7',
      { peer: 'udp/10.0.0.7', suppressed: 47, interval_ms: 60_000 },
    ]);
    // A new interval: lines again, and no second summary for the first.
    limit.warn(udp('10.0.0.7:1'), 'bad again');
    limit.flush();
    expect(lines.map(([msg]) => msg).slice(4)).toEqual(['bad again']);
  });

  it('limits each peer on its own', () => {
    const { log, lines } = capture();
    const limit = new PeerLogLimit(log, { perInterval: 1, clock: () => 0 });
    for (const remote of ['10.0.0.1:1', '10.0.0.2:1', '10.0.0.1:2', '[::1]:5', '[::1]:6']) {
      limit.warn(udp(remote), `from ${remote}`);
    }
    expect(lines.map(([msg]) => msg)).toEqual(['from 10.0.0.1:1', 'from 10.0.0.2:1', 'from [::1]:5']);
  });

  it('says what it held back on the next line of any peer, even without the timer', () => {
    let now = 0;
    const { log, lines } = capture();
    const limit = new PeerLogLimit(log, { perInterval: 1, intervalMs: 10, clock: () => now });
    limit.warn(udp('10.0.0.1:1'), 'a1');
    limit.warn(udp('10.0.0.1:1'), 'a2');
    now = 10;
    limit.warn(udp('10.0.0.2:1'), 'b1');
    expect(lines.map(([msg]) => msg)).toEqual([
      'a1',
      'suppressed 1 more lines about bad input from udp/10.0.0.1',
      'b1',
    ]);
  });

  it('keeps its table bounded: past maxPeers, new peers share one entry', () => {
    const { log, lines } = capture();
    const limit = new PeerLogLimit(log, { perInterval: 1, maxPeers: 2, clock: () => 0 });
    for (let i = 1; i <= 5; i++) limit.warn(udp(`10.0.0.${i}:1`), `from ${i}`);
    expect(lines.map(([msg]) => msg)).toEqual(['from 1', 'from 2', 'from 3']);
    expect(lines[2]![1]).toEqual({ peer: 'other peers' });
  });
});
