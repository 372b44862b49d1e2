/**
 * Message coverage: how often each defined command was sent and received, so a test suite can
 * show that it exercises the whole protocol (issue #2). One pair of counters per command, made
 * up front: counting is a Map lookup and an increment, and a peer's made-up commands are not
 * kept (they would grow memory without bound).
 *
 * The dispatcher counts what it receives; the messenger calls sent() for what it writes, so a
 * reply the dispatcher sends through ctx.reply is counted once, when written.
 */

import { PROTOCOL_COMMANDS } from '../protocol/definitions.js';

interface Counter {
  sent: number;
  received: number;
}

export interface CoverageReport {
  /** Defined commands never sent. */
  readonly neverSent: string[];
  /** Defined commands never received. */
  readonly neverReceived: string[];
  /** Defined commands neither sent nor received. */
  readonly neverExercised: string[];
}

export class Coverage {
  readonly #counters = new Map<string, Counter>();

  /** @param commands the commands to follow (default: every command of PROTOCOL.md). */
  constructor(commands: Iterable<string> = PROTOCOL_COMMANDS) {
    for (const command of commands) this.#counters.set(command, { sent: 0, received: 0 });
  }

  received(command: string): void {
    const counter = this.#counters.get(command);
    if (counter !== undefined) counter.received++;
  }

  sent(command: string): void {
    const counter = this.#counters.get(command);
    if (counter !== undefined) counter.sent++;
  }

  /** Counts per command, in the order the commands were given. */
  counts(): Record<string, { readonly sent: number; readonly received: number }> {
    const out: Record<string, { sent: number; received: number }> = Object.create(null);
    for (const [command, { sent, received }] of this.#counters) out[command] = { sent, received };
    return out;
  }

  report(): CoverageReport {
    const neverSent: string[] = [];
    const neverReceived: string[] = [];
    const neverExercised: string[] = [];
    for (const [command, { sent, received }] of this.#counters) {
      if (sent === 0) neverSent.push(command);
      if (received === 0) neverReceived.push(command);
      if (sent === 0 && received === 0) neverExercised.push(command);
    }
    return { neverSent, neverReceived, neverExercised };
  }

  reset(): void {
    for (const counter of this.#counters.values()) {
      counter.sent = 0;
      counter.received = 0;
    }
  }
}

/**
 * The process-wide instance that dispatchers use unless given another. Test runners that
 * isolate files in workers (vitest does) hold one per test file.
 */
export const defaultCoverage: Coverage = new Coverage();
