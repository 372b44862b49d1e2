import { describe, expect, it } from 'vitest';
import {
  type SessionState,
  SessionStateMachine,
  type SessionTransition,
} from '../../../shared/sender/session-state.js';

const STATES: readonly SessionState[] = [
  'awaiting-service',
  'lost',
  'registering',
  'ready',
  'paused',
  'stopped',
];
const MOVES: readonly SessionTransition[] = ['name', 'register', 'ready', 'pause', 'unpause', 'lose', 'stop'];

/**
 * The sender's session, written out by hand from its design (not read from the table): for each
 * state, where each move leads, and `undefined` for a move refused there.
 */
const EXPECTED: Record<SessionState, Record<SessionTransition, SessionState | undefined>> = {
  'awaiting-service': {
    name: 'lost',
    register: undefined,
    ready: undefined,
    pause: undefined,
    unpause: undefined,
    lose: undefined,
    stop: 'stopped',
  },
  lost: {
    name: undefined,
    register: 'registering',
    ready: undefined,
    pause: undefined,
    unpause: undefined,
    lose: undefined,
    stop: 'stopped',
  },
  registering: {
    name: undefined,
    register: undefined,
    ready: 'ready',
    pause: 'paused',
    unpause: undefined,
    lose: 'lost',
    stop: 'stopped',
  },
  ready: {
    name: undefined,
    register: undefined,
    ready: undefined,
    pause: 'paused',
    unpause: undefined,
    lose: 'lost',
    stop: 'stopped',
  },
  paused: {
    name: undefined,
    register: undefined,
    ready: undefined,
    pause: undefined,
    unpause: 'ready',
    lose: 'lost',
    stop: 'stopped',
  },
  stopped: {
    name: undefined,
    register: undefined,
    ready: undefined,
    pause: undefined,
    unpause: undefined,
    lose: undefined,
    stop: undefined,
  },
};

const CASES = STATES.flatMap((from) => MOVES.map((move) => [from, move, EXPECTED[from][move]] as const));

describe('SessionStateMachine', () => {
  it('starts awaiting the service name', () => {
    expect(new SessionStateMachine().state).toBe('awaiting-service');
  });

  describe('#apply', () => {
    it.each(CASES.filter(([, , to]) => to !== undefined))('from %s, %s leads to %s', (from, move, to) => {
      const machine = new SessionStateMachine(from);
      expect(machine.can(move)).toBe(true);
      expect(machine.apply(move)).toBe(true);
      expect(machine.state).toBe(to);
    });

    it.each(CASES.filter(([, , to]) => to === undefined))(
      'from %s, refuses %s (loudly under test) and stays',
      (from, move) => {
        const machine = new SessionStateMachine(from);
        expect(machine.can(move)).toBe(false);
        expect(() => machine.apply(move)).toThrow(`illegal transition "${move}" from "${from}"`);
        expect(machine.state).toBe(from);
      },
    );
  });

  describe('#applyIf', () => {
    it('applies an allowed move and quietly ignores one that does not apply now', () => {
      const machine = new SessionStateMachine('lost');
      expect(machine.applyIf('lose')).toBe(false);
      expect(machine.state).toBe('lost');
      expect(machine.applyIf('register')).toBe(true);
      expect(machine.state).toBe('registering');
    });
  });

  it('follows a whole life: named, registers, pauses, goes on, loses its link, registers again, stops', () => {
    const machine = new SessionStateMachine();
    const path: SessionState[] = [];
    for (const move of [
      'name',
      'register',
      'ready',
      'pause',
      'unpause',
      'lose',
      'register',
      'pause',
      'lose',
      'stop',
    ] as const) {
      machine.apply(move);
      path.push(machine.state);
    }
    expect(path).toEqual([
      'lost',
      'registering',
      'ready',
      'paused',
      'ready',
      'lost',
      'registering',
      'paused',
      'lost',
      'stopped',
    ]);
  });
});
