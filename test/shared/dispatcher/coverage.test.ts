import { describe, expect, it } from 'vitest';
import { Coverage, defaultCoverage } from '../../../shared/dispatcher/coverage.js';
import { Dispatcher } from '../../../shared/dispatcher/dispatcher.js';
import { PROTOCOL_COMMANDS } from '../../../shared/protocol/definitions.js';
import { message } from '../../../shared/protocol/message.js';
import { expectCovered } from '../../helpers/coverage.js';

describe('Coverage', () => {
  describe('#report', () => {
    it('lists the commands never sent, never received and never exercised', () => {
      const coverage = new Coverage(['A', 'B', 'C', 'D']);
      coverage.sent('A');
      coverage.received('B');
      coverage.sent('C');
      coverage.received('C');
      expect(coverage.report()).toEqual({
        neverSent: ['B', 'D'],
        neverReceived: ['A', 'D'],
        neverExercised: ['D'],
      });
    });

    it('ignores commands it does not follow, so a peer cannot grow it', () => {
      const coverage = new Coverage(['A']);
      for (let i = 0; i < 100; i++) coverage.received(`X${i}`);
      expect(Object.keys(coverage.counts())).toEqual(['A']);
    });

    it('follows every protocol command by default, and resets', () => {
      const coverage = new Coverage();
      expect(coverage.report().neverExercised).toEqual([...PROTOCOL_COMMANDS]);
      coverage.received('ALIVE');
      coverage.reset();
      expect(coverage.counts().ALIVE).toEqual({ sent: 0, received: 0 });
    });
  });

  it('is fed by dispatchers by default (defaultCoverage)', () => {
    const before = defaultCoverage.counts().HELP?.received ?? 0;
    new Dispatcher().dispatch(message('HELP'), {
      peer: { transport: 'udp', remote: '127.0.0.1:5000', local: true, secure: false },
      reply: () => {},
    });
    expect(defaultCoverage.counts().HELP?.received).toBe(before + 1);
  });

  describe('expectCovered', () => {
    it('passes when every command was exercised as asked', () => {
      const coverage = new Coverage(['A', 'B']);
      coverage.sent('A');
      coverage.received('B');
      expectCovered(coverage, ['A', 'B']);
      expectCovered(coverage, ['A'], 'sent');
      expectCovered(coverage, ['B'], 'received');
    });

    it('fails naming the commands missing', () => {
      const coverage = new Coverage(['A', 'B']);
      coverage.sent('A');
      expect(() => expectCovered(coverage, ['A', 'B'])).toThrow(/B/);
      expect(() => expectCovered(coverage, ['A'], 'both')).toThrow(/A/);
      expect(() => expectCovered(coverage, ['NOT_FOLLOWED'])).toThrow(/NOT_FOLLOWED/);
    });
  });
});
