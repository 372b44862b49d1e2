/**
 * Two outputs as one (files and forward, `--forward` with `--output`): every batch goes to both,
 * each part declared, written and undone as the writer asks, and a client's ACK waits for both.
 */

import type { Output, OutputPart, RoutedBatch, TickRecords } from './output.js';

export class OutputPair implements Output {
  readonly #first: Output;
  readonly #second: Output;

  constructor(first: Output, second: Output) {
    this.#first = first;
    this.#second = second;
  }

  stage(batches: readonly RoutedBatch[], records: TickRecords, now: number): OutputPart {
    // Both see every record: the counters count the files' view, the forward's is the same records.
    const a = this.#first.stage(batches, records, now);
    const b = this.#second.stage(batches, { written: 0, rejected: 0 }, now);
    return {
      declare: async (save) => {
        await a.declare(save);
        await b.declare(save);
      },
      write: async () => {
        const results = await Promise.allSettled([a.write(), b.write()]);
        for (const result of results) if (result.status === 'rejected') throw result.reason;
      },
      undo: async () => {
        await Promise.all([a.undo(), b.undo()]);
      },
      committed: () => {
        a.committed?.();
        b.committed?.();
      },
    };
  }

  prepare(path: string): void {
    this.#first.prepare(path);
    this.#second.prepare(path);
  }

  async reopen(): Promise<void> {
    await this.#first.reopen();
    await this.#second.reopen();
  }

  async close(): Promise<void> {
    await Promise.all([this.#first.close(), this.#second.close()]);
  }
}
