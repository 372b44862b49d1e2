import { debuglog } from 'node:util';

/**
 * One state changed only by named transitions from a table (STYLE.md "State you can see"): the
 * permanent client's link, the sender's session and the appender's life each hold one.
 */

/** Every allowed move: the states it leaves from and the state it reaches. */
export type TransitionTable<S extends string, T extends string> = {
  readonly [move in T]: { readonly from: readonly S[]; readonly to: S };
};

const debug = debuglog('logwire');

// Tests and development builds learn of a bad move at once; production keeps running.
const STRICT = process.env.NODE_ENV === 'test' || process.env.NODE_ENV === 'development';

/** Holds the state; `apply` is the only way to change it. */
export class StateMachine<S extends string, T extends string> {
  readonly #name: string;
  readonly #table: TransitionTable<S, T>;
  #state: S;

  constructor(name: string, table: TransitionTable<S, T>, initial: S) {
    this.#name = name;
    this.#table = table;
    this.#state = initial;
  }

  get state(): S {
    return this.#state;
  }

  /** True when `transition` may be applied now. */
  can(transition: T): boolean {
    return this.#table[transition].from.includes(this.#state);
  }

  /**
   * Moves to the transition's target state and returns true; an illegal move changes nothing and
   * returns false (in test and development builds it throws, since it is a bug in the caller).
   */
  apply(transition: T): boolean {
    if (!this.can(transition)) {
      const problem = `${this.#name}: illegal transition "${transition}" from "${this.#state}"`;
      if (STRICT) throw new Error(problem);
      debug(problem);
      return false;
    }
    this.#state = this.#table[transition].to;
    return true;
  }

  /** Applies `transition` when it is allowed now; else changes nothing. True when it moved. */
  applyIf(transition: T): boolean {
    return this.can(transition) && this.apply(transition);
  }
}
