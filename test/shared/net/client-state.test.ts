import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ClientState, ClientStateMachine, type Transition } from '../../../shared/net/client-state.js';

const STATES: readonly ClientState[] = ['connecting', 'connected', 'disconnected', 'paused', 'closed'];
const MOVES: readonly Transition[] = ['retry', 'ready', 'fail', 'lose', 'pause', 'resume', 'close'];

/**
 * The permanent client's moves, written out by hand from its design (not read from TRANSITIONS):
 * for each state, where each move leads, and `undefined` for a move that is refused there.
 */
const EXPECTED: Record<ClientState, Record<Transition, ClientState | undefined>> = {
  disconnected: {
    retry: 'connecting',
    ready: undefined,
    fail: undefined,
    lose: undefined,
    pause: undefined,
    resume: undefined,
    close: 'closed',
  },
  connecting: {
    retry: undefined,
    ready: 'connected',
    fail: 'disconnected',
    lose: undefined,
    pause: undefined,
    resume: undefined,
    close: 'closed',
  },
  connected: {
    retry: undefined,
    ready: undefined,
    fail: undefined,
    lose: 'disconnected',
    pause: 'paused',
    resume: undefined,
    close: 'closed',
  },
  paused: {
    retry: undefined,
    ready: undefined,
    fail: undefined,
    lose: 'disconnected',
    pause: undefined,
    resume: 'connected',
    close: 'closed',
  },
  closed: {
    retry: undefined,
    ready: undefined,
    fail: undefined,
    lose: undefined,
    pause: undefined,
    resume: undefined,
    close: undefined,
  },
};

const CASES = STATES.flatMap((from) => MOVES.map((move) => [from, move, EXPECTED[from][move]] as const));

describe('ClientStateMachine', () => {
  describe('#apply', () => {
    it.each(CASES.filter(([, , to]) => to !== undefined))('from %s, %s leads to %s', (from, move, to) => {
      const machine = new ClientStateMachine(from);
      expect(machine.can(move)).toBe(true);
      expect(machine.apply(move)).toBe(true);
      expect(machine.state).toBe(to);
    });

    it.each(CASES.filter(([, , to]) => to === undefined))(
      'from %s, refuses %s (loudly under test) and stays',
      (from, move) => {
        const machine = new ClientStateMachine(from);
        expect(machine.can(move)).toBe(false);
        expect(() => machine.apply(move)).toThrow(`illegal transition "${move}" from "${from}"`);
        expect(machine.state).toBe(from);
      },
    );

    it('follows a whole life: connect, pause, resume, lose, reconnect, close', () => {
      const machine = new ClientStateMachine('disconnected');
      const path: ClientState[] = [];
      for (const move of [
        'retry',
        'fail',
        'retry',
        'ready',
        'pause',
        'resume',
        'lose',
        'retry',
        'close',
      ] as const) {
        machine.apply(move);
        path.push(machine.state);
      }
      expect(path).toEqual([
        'connecting',
        'disconnected',
        'connecting',
        'connected',
        'paused',
        'connected',
        'disconnected',
        'connecting',
        'closed',
      ]);
    });
  });

  describe('in production', () => {
    afterEach(() => {
      vi.unstubAllEnvs();
      vi.resetModules();
    });

    it('refuses an illegal move quietly: false, and the state stays', async () => {
      vi.stubEnv('NODE_ENV', 'production');
      vi.resetModules();
      const { ClientStateMachine: Quiet } = await import('../../../shared/net/client-state.js');
      const machine = new Quiet('connecting');
      expect(machine.apply('resume')).toBe(false);
      expect(machine.state).toBe('connecting');
      expect(machine.apply('ready')).toBe(true);
      expect(machine.state).toBe('connected');
    });
  });
});
