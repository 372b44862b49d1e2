import { describe, expect, it } from 'vitest';
import { AppenderLifecycle, type AppenderState, type LifecycleTransition } from '../../appender/lifecycle.js';

const STATES: readonly AppenderState[] = ['running', 'closing', 'closed', 'exiting'];
const MOVES: readonly LifecycleTransition[] = ['close', 'finish', 'exit'];

/** The appender's life, written out by hand: where each move leads, `undefined` where refused. */
const EXPECTED: Record<AppenderState, Record<LifecycleTransition, AppenderState | undefined>> = {
  running: { close: 'closing', finish: undefined, exit: 'exiting' },
  closing: { close: undefined, finish: 'closed', exit: 'exiting' },
  closed: { close: undefined, finish: undefined, exit: undefined },
  exiting: { close: undefined, finish: undefined, exit: undefined },
};

const CASES = STATES.flatMap((from) => MOVES.map((move) => [from, move, EXPECTED[from][move]] as const));

describe('AppenderLifecycle', () => {
  it.each(CASES)('from %s, %s leads to %s', (from, move, to) => {
    const life = new AppenderLifecycle(from);
    expect(life.applyIf(move)).toBe(to !== undefined);
    expect(life.state).toBe(to ?? from);
  });

  it('has given up on delivery once closed or exiting, not while closing', () => {
    const gaveUp = STATES.filter((state) => new AppenderLifecycle(state).gaveUp);
    expect(gaveUp).toEqual(['closed', 'exiting']);
  });
});
