import { describe, expect, it } from 'vitest';
import {
  type ClientState,
  ClientStateMachine,
  TRANSITIONS,
  type Transition,
} from '../../../shared/net/client-state.js';

const STATES: readonly ClientState[] = ['connecting', 'connected', 'disconnected', 'paused', 'closed'];

describe('ClientStateMachine', () => {
  describe('#apply', () => {
    it('follows every transition of the table from each state it allows', () => {
      for (const [name, { from, to }] of Object.entries(TRANSITIONS)) {
        for (const state of from) {
          const machine = new ClientStateMachine(state);
          expect(machine.apply(name as Transition)).toBe(true);
          expect(machine.state).toBe(to);
        }
      }
    });

    it('refuses, loudly under test, every move the table does not list', () => {
      for (const [name, { from }] of Object.entries(TRANSITIONS)) {
        for (const state of STATES.filter((s) => !(from as readonly ClientState[]).includes(s))) {
          const machine = new ClientStateMachine(state);
          expect(machine.can(name as Transition)).toBe(false);
          expect(() => machine.apply(name as Transition)).toThrow(
            `illegal transition "${name}" from "${state}"`,
          );
          expect(machine.state).toBe(state);
        }
      }
    });

    it('leaves closed for nothing', () => {
      const machine = new ClientStateMachine('closed');
      for (const name of Object.keys(TRANSITIONS)) expect(machine.can(name as Transition)).toBe(false);
    });
  });
});
