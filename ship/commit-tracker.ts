import type { Appender } from '../appender/appender.js';
import type { ReadEntry, ReadPositions } from './read-positions.js';
import { waitFor } from './ship-appender.js';

/**
 * Moves each read's saved position once the records before it are in the spool.
 *
 * Records reach the spool in the order ship wrote them, and the appender counts them
 * (`counters.spooled`, plus `dropped` for any it gave up on) and emits 'progress' in the same
 * synchronous step. So ship notes, for every piece it writes, the running total of records
 * written and the offset the piece ends at; at each 'progress', every piece whose total the
 * spooled count has reached is committed, and positions.json is saved right there,
 * synchronously, before the appender can send those records (let alone see them acknowledged
 * and leave the spool). A SIGKILL can fall between a spool write and this save; then the
 * records are still in the spool, and the next start reads their cursors back from it
 * (spool-cursors.ts): the position is the furthest of the two. Hence neither loss (a position
 * never passes a record not in the spool) nor repetition (a record in the spool is never read
 * again).
 */

interface Piece {
  /** Records written up to and including this piece. */
  readonly upTo: number;
  readonly entry: ReadEntry;
  /** The file offset after the piece's last line. */
  readonly end: number;
}

export class CommitTracker {
  readonly #appender: Appender;
  readonly #positions: ReadPositions;
  readonly #pending: Piece[] = [];
  #head = 0;
  #written = 0;

  constructor(appender: Appender, positions: ReadPositions) {
    this.#appender = appender;
    this.#positions = positions;
    appender.on('progress', () => this.#apply());
  }

  /** Notes a piece just about to be written: `records` records, ending at `end` in the file. */
  handed(entry: ReadEntry, records: number, end: number): void {
    this.#written += records;
    this.#pending.push({ upTo: this.#written, entry, end });
    // A piece of only empty lines is committed as soon as what came before it is.
    if (records === 0) this.#apply();
  }

  /** True when no piece of this read waits for the spool. */
  isCommitted(entry: ReadEntry): boolean {
    for (let i = this.#head; i < this.#pending.length; i++)
      if (this.#pending[i]?.entry === entry) return false;
    return true;
  }

  get waiting(): number {
    return this.#pending.length - this.#head;
  }

  /** Resolves true once every piece is committed, false after `ms`. */
  async settle(ms: number): Promise<boolean> {
    this.#apply();
    await waitFor(
      this.#appender,
      () => {
        this.#apply();
        return this.waiting === 0;
      },
      ms,
    );
    return this.waiting === 0;
  }

  #apply(): void {
    const counters = this.#appender.counters;
    const settled = counters.spooled + counters.dropped;
    let moved = false;
    while (this.#head < this.#pending.length) {
      const piece = this.#pending[this.#head]!;
      if (piece.upTo > settled) break;
      if (piece.end > piece.entry.committed) piece.entry.committed = piece.end;
      this.#head += 1;
      moved = true;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
      this.#pending.splice(0, this.#head);
      this.#head = 0;
    }
    if (moved) this.#positions.save();
  }
}
