/**
 * A first-in first-out list with O(1) shift: an array with a moving head, compacted once the
 * dead prefix is at least half the array (amortized O(1); Array#shift on a long array is O(n)).
 * The queues of the client (held messages) and of the sender (batches) keep their own byte
 * counts on top of it.
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  /** The newest item, left in place. */
  peekLast(): T | undefined {
    return this.length > 0 ? this.#items[this.#items.length - 1] : undefined;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Puts an item back at the front. */
  unshift(item: T): void {
    if (this.#head > 0) {
      this.#head -= 1;
      this.#items[this.#head] = item;
    } else {
      this.#items.unshift(item);
    }
  }

  /** Takes the oldest item. */
  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head += 1;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Takes the newest item. */
  pop(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.#items.pop();
    if (this.#head === this.#items.length) this.clear();
    return item;
  }

  /** A copy, oldest first. */
  toArray(): T[] {
    return this.#items.slice(this.#head) as T[];
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
