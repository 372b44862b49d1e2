/**
 * Numbers for records that reach the relay without a session (UDP datagrams, NDJSON lines):
 * the upstream needs a numbered stream to deduplicate, so the relay numbers them itself, one
 * source of its own per service (`<relay id>.<service>`), host = this machine. The numbers live
 * in the checkpoint as that source's mark, moved in the tick that spools the batch and saved
 * with it, so they never repeat across a crash (the spool cut-back and the marks agree).
 */

import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface RelayMarks {
  mark(source: string): number;
  setMark(source: string, last: number): void;
}

/** One tick's numbering: `next` hands out numbers, `undo` gives them back (a failed tick). */
export interface TickNumbering {
  readonly host: string;
  next(service: string, count: number): { source: string; seq: number; count: number };
  undo(): void;
}

const NAME_CHARS = /[^A-Za-z0-9._-]/g;

export class RelayNumbering {
  readonly #id: string;
  readonly #host: string;
  readonly #marks: RelayMarks;

  constructor(id: string, marks: RelayMarks, host: string = hostname()) {
    this.#id = id;
    this.#marks = marks;
    this.#host =
      host
        .replace(NAME_CHARS, '_')
        .replace(/^[^A-Za-z0-9]/, 'h')
        .slice(0, 64) || 'relay';
  }

  /** The relay's id, kept in `<dir>/relay-id` (made once, at random). */
  static async loadId(dir: string): Promise<string> {
    const file = join(dir, 'relay-id');
    try {
      const id = (await readFile(file, 'utf8')).trim();
      if (/^[A-Za-z0-9]{4,32}$/.test(id)) return id;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const id = `relay${randomBytes(4).toString('hex')}`;
    await writeFile(file, `${id}\n`);
    return id;
  }

  begin(): TickNumbering {
    const before = new Map<string, number>();
    return {
      host: this.#host,
      next: (service, count) => {
        const source = `${this.#id}.${service}`.slice(0, 64);
        const mark = this.#marks.mark(source);
        if (!before.has(source)) before.set(source, mark);
        this.#marks.setMark(source, mark + count);
        return { source, seq: mark + 1, count };
      },
      undo: () => {
        for (const [source, mark] of before) this.#marks.setMark(source, mark);
      },
    };
  }
}
