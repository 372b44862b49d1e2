/**
 * One output's progress as STATUS shows it (`output_<name>_state`, `_written`, and for an
 * optional output `_queued` and `_dropped`): its state, changed only by the table below, and
 * its record counters, moved once a tick is committed.
 */

import { StateMachine, type TransitionTable } from '../../shared/state-machine.js';

export type OutputState = 'ok' | 'failing';
type OutputMove = 'fail' | 'recover';

const MOVES: TransitionTable<OutputState, OutputMove> = {
  fail: { from: ['ok', 'failing'], to: 'failing' },
  recover: { from: ['failing'], to: 'ok' },
};

export class OutputProgress {
  readonly name: string;
  readonly required: boolean;
  /** Records written, and sent to its rejected file, by committed ticks. */
  written = 0;
  rejected = 0;
  /** Optional outputs: records waiting in the backlog, and records dropped from a full one. */
  queued = 0;
  dropped = 0;
  /** The last write error while failing. */
  reason: string | undefined;
  readonly #state: StateMachine<OutputState, OutputMove>;

  constructor(name: string, required: boolean) {
    this.name = name;
    this.required = required;
    this.#state = new StateMachine(`output ${name}`, MOVES, 'ok');
  }

  get state(): OutputState {
    return this.#state.state;
  }

  failed(error: unknown): void {
    this.reason = error instanceof Error ? error.message : String(error);
    this.#state.apply('fail');
  }

  /** A part written: true when it was failing until now. */
  succeeded(): boolean {
    this.reason = undefined;
    return this.#state.applyIf('recover');
  }

  /** STATUS fields: `output_<name>_…`. */
  report(): Record<string, string | number> {
    const prefix = `output_${this.name}_`;
    return {
      [`${prefix}state`]: this.state,
      [`${prefix}written`]: this.written,
      [`${prefix}rejected`]: this.rejected,
      ...(this.required ? {} : { [`${prefix}queued`]: this.queued, [`${prefix}dropped`]: this.dropped }),
    };
  }
}
