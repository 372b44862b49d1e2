import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Idempotency-Key values whose records the HTTP listener has written, so that a client's
 * retry of a POST it got no answer to is answered 200 without writing the records again.
 *
 * Bounded: the most recent `capacity` keys are kept (least recently used forgotten first); a
 * retry that comes after its key was forgotten is written again (docs/collector.md says so).
 * Persisted in `<state>/http-idempotency.keys`, one JSON string a line, appended synchronously
 * right after the records' checkpoint is saved and before the 200 leaves: a restart keeps them.
 * The file is rewritten with only the kept keys once it holds twice as many lines.
 */

export const DEFAULT_IDEMPOTENCY_KEYS = 100_000;
const FILE = 'http-idempotency.keys';
/** RFC-style keys: visible ASCII, 1 to 255 characters. */
const KEY = /^[\x21-\x7e]{1,255}$/;

export function validIdempotencyKey(key: string): boolean {
  return KEY.test(key);
}

export class IdempotencyKeys {
  readonly #path: string;
  readonly #capacity: number;
  /** Insertion order is recency order: a hit is moved to the end. */
  readonly #keys = new Map<string, number>();
  #lines = 0;

  constructor(stateDir: string, capacity = DEFAULT_IDEMPOTENCY_KEYS) {
    this.#path = join(stateDir, FILE);
    this.#capacity = capacity;
    this.#load();
  }

  get size(): number {
    return this.#keys.size;
  }

  /** The record count written under this key, if it was written (and not yet forgotten). */
  lookup(key: string): number | undefined {
    const records = this.#keys.get(key);
    if (records === undefined) return undefined;
    this.#keys.delete(key);
    this.#keys.set(key, records);
    return records;
  }

  /** Remembers a key whose records are written and checkpointed; durable when it returns. */
  remember(key: string, records: number): void {
    this.#keys.delete(key);
    this.#keys.set(key, records);
    this.#evict();
    appendFileSync(this.#path, `${JSON.stringify([key, records])}\n`);
    this.#lines += 1;
    if (this.#lines > 2 * this.#capacity) this.#compact();
  }

  #evict(): void {
    while (this.#keys.size > this.#capacity) {
      const oldest = this.#keys.keys().next().value;
      if (oldest === undefined) return;
      this.#keys.delete(oldest);
    }
  }

  #load(): void {
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch {
      return; // none yet
    }
    for (const line of text.split('\n')) {
      if (line === '') continue;
      this.#lines += 1;
      try {
        const [key, records] = JSON.parse(line) as [unknown, unknown];
        if (typeof key === 'string' && typeof records === 'number') {
          this.#keys.delete(key);
          this.#keys.set(key, records);
        }
      } catch {
        // A line torn by a crash: its POST got no 200, so forgetting it is right.
      }
    }
    this.#evict();
  }

  #compact(): void {
    const temp = `${this.#path}.tmp`;
    const text = [...this.#keys].map((entry) => `${JSON.stringify(entry)}\n`).join('');
    writeFileSync(temp, text);
    renameSync(temp, this.#path);
    this.#lines = this.#keys.size;
  }
}
