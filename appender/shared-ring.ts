/**
 * A single-producer, single-consumer byte ring in a SharedArrayBuffer: the app's thread writes
 * record lines into it (UTF-8, no copy through the structured clone) and the shipping thread
 * takes them out as Buffers. Neither side ever waits on the other: a write that does not fit
 * returns false (the caller then uses another path), and `take` returns what is there.
 *
 * Positions are byte offsets in [0, size]. The producer writes whole writes only, so every
 * published position is at a write boundary, and a write never straddles the end: one that does
 * not fit before the end goes to the start, and the producer first stores where the data before
 * it ends (END). Behind the consumer, the producer keeps at least one byte free, so READ === WRITE
 * means empty, READ > WRITE means the data wrapped:
 *
 *   READ ≤ WRITE:  [READ, WRITE)                 READ > WRITE:  [READ, END) then [0, WRITE)
 *
 * Publishing (storing WRITE) is the producer's choice: it publishes every few KiB, so that the
 * consumer takes large chunks, and only then checks whether the consumer sleeps (it says so in
 * SLEEPING before it sleeps; a seq-cst store then load on each side means one of them sees the
 * other's, so a publish is never missed).
 */

/** The control words (Int32Array indices). */
const WRITE = 0;
const READ = 1;
const END = 2;
const SLEEPING = 3;
/** Texts the consumer has taken from the other path (see `RingProducer.caughtUp`). */
const TAKEN = 4;
const CONTROL_WORDS = 5;

/** A UTF-16 code unit is at most 3 bytes of UTF-8. */
const MAX_BYTES_PER_UNIT = 3;

export interface SharedRing {
  readonly control: Int32Array;
  readonly bytes: Uint8Array;
}

/** A ring of `size` bytes. */
export function createSharedRing(size: number): SharedRing {
  if (!Number.isInteger(size) || size < 2 || size > 2 ** 30) throw new RangeError(`ring size ${size}`);
  return {
    control: new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS)),
    bytes: new Uint8Array(new SharedArrayBuffer(size)),
  };
}

export class RingProducer {
  readonly #control: Int32Array;
  readonly #bytes: Buffer;
  readonly #size: number;
  /** Where the next write goes (published or not). */
  #write = 0;
  #published = 0;
  /** The consumer's position, as last read: it only moves on, so free space is at least this. */
  #read = 0;

  constructor(ring: SharedRing) {
    this.#control = ring.control;
    this.#bytes = Buffer.from(ring.bytes.buffer, ring.bytes.byteOffset, ring.bytes.byteLength);
    this.#size = ring.bytes.byteLength;
  }

  /** Bytes written and not yet published. */
  get unpublished(): number {
    const pending = this.#write - this.#published;
    return pending >= 0 ? pending : pending + this.#size;
  }

  /** Writes `text` whole, or nothing when it does not fit (false). */
  writeString(text: string): boolean {
    if (text.length === 0) return true;
    const bound = text.length * MAX_BYTES_PER_UNIT;
    // Most writes fit by the bound, without measuring the text first.
    const at = this.#placeFor(bound) ?? this.#placeFor(Buffer.byteLength(text));
    if (at === undefined) return false;
    this.#write = at + this.#bytes.write(text, at, this.#size - at, 'utf8');
    return true;
  }

  /** Writes `chunk` whole, or nothing when it does not fit (false). */
  writeBytes(chunk: Uint8Array): boolean {
    if (chunk.length === 0) return true;
    const at = this.#placeFor(chunk.length);
    if (at === undefined) return false;
    this.#bytes.set(chunk, at);
    this.#write = at + chunk.length;
    return true;
  }

  /**
   * Makes everything written visible to the consumer. True when the consumer was asleep: the
   * caller wakes it (once: the flag is cleared here).
   */
  publish(): boolean {
    if (this.#write === this.#published) return false;
    this.#published = this.#write;
    Atomics.store(this.#control, WRITE, this.#write);
    return Atomics.compareExchange(this.#control, SLEEPING, 1, 0) === 1;
  }

  /** The consumer has taken everything published, and `texts` texts from the other path. */
  caughtUp(texts: number): boolean {
    return (
      Atomics.load(this.#control, READ) === this.#published &&
      Atomics.load(this.#control, TAKEN) === (texts | 0)
    );
  }

  /** Takes back everything published and not taken (the consumer is gone), then all unpublished. */
  takeBack(): Buffer | undefined {
    this.publish();
    return takeFrom(this.#control, this.#bytes);
  }

  /** Where `length` bytes can go, wrapping if need be (END stored first), or undefined. */
  #placeFor(length: number): number | undefined {
    const at = this.#fits(length);
    if (at !== undefined) return at;
    this.#read = Atomics.load(this.#control, READ);
    return this.#fits(length);
  }

  #fits(length: number): number | undefined {
    const write = this.#write;
    const read = this.#read;
    if (write < read) return write + length < read ? write : undefined;
    if (write + length <= this.#size) return write;
    if (length < read) {
      // The consumer reads END only once it sees WRITE behind READ, i.e. after this publishes.
      Atomics.store(this.#control, END, write);
      this.#write = 0;
      return 0;
    }
    return undefined;
  }
}

export class RingConsumer {
  readonly #control: Int32Array;
  readonly #bytes: Buffer;

  constructor(ring: SharedRing) {
    this.#control = ring.control;
    this.#bytes = Buffer.from(ring.bytes.buffer, ring.bytes.byteOffset, ring.bytes.byteLength);
  }

  /** A copy of everything published and not yet taken (whole writes), or undefined. */
  take(): Buffer | undefined {
    return takeFrom(this.#control, this.#bytes);
  }

  /** One text of the other path was taken (after what the ring held before it). */
  tookText(): void {
    Atomics.add(this.#control, TAKEN, 1);
  }

  /**
   * Says the consumer sleeps until woken. False when something was published meanwhile: take
   * it instead (the flag is withdrawn, or cleared by a producer that will wake it).
   */
  sleep(): boolean {
    Atomics.store(this.#control, SLEEPING, 1);
    if (Atomics.load(this.#control, WRITE) === Atomics.load(this.#control, READ)) return true;
    return Atomics.compareExchange(this.#control, SLEEPING, 1, 0) !== 1;
  }
}

function takeFrom(control: Int32Array, bytes: Buffer): Buffer | undefined {
  const write = Atomics.load(control, WRITE);
  const read = Atomics.load(control, READ);
  if (write === read) return undefined;
  let chunk: Buffer;
  if (read < write) chunk = Buffer.from(bytes.subarray(read, write));
  else {
    const end = Atomics.load(control, END);
    chunk = Buffer.allocUnsafe(end - read + write);
    bytes.copy(chunk, 0, read, end);
    bytes.copy(chunk, end - read, 0, write);
  }
  Atomics.store(control, READ, write);
  return chunk;
}
