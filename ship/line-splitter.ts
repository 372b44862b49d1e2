/**
 * Cuts a byte stream into LF-terminated lines and says where each ends, so a file's read
 * position can be remembered exactly. Bytes after the last LF wait for the next chunk.
 */

const LF = 0x0a;

export interface SplitLine {
  readonly text: string;
  /** The stream offset just after this line's LF. */
  readonly end: number;
}

export class LineSplitter {
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** The stream offset of the first byte held (or of the next byte, when none is). */
  #offset: number;

  constructor(offset = 0) {
    this.#offset = offset;
  }

  /** The offset just after the last whole line returned. */
  get position(): number {
    return this.#offset;
  }

  /** Bytes of a line not yet ended. */
  get pendingBytes(): number {
    return this.#heldBytes;
  }

  push(chunk: Buffer): SplitLine[] {
    const lines: SplitLine[] = [];
    let from = 0;
    for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, from)) {
      const piece = chunk.subarray(from, lf);
      const bytes = this.#heldBytes + piece.length;
      const text =
        this.#held.length === 0
          ? piece.toString('utf8')
          : Buffer.concat([...this.#held, piece]).toString('utf8');
      this.#held = [];
      this.#heldBytes = 0;
      this.#offset += bytes + 1;
      lines.push({ text, end: this.#offset });
      from = lf + 1;
    }
    if (from < chunk.length) {
      this.#held.push(chunk.subarray(from));
      this.#heldBytes += chunk.length - from;
    }
    return lines;
  }

  /** At the end of a stream: the unterminated rest as a last line, if any. */
  finish(): SplitLine | undefined {
    if (this.#heldBytes === 0) return undefined;
    const text = Buffer.concat(this.#held).toString('utf8');
    this.#offset += this.#heldBytes;
    this.#held = [];
    this.#heldBytes = 0;
    return { text, end: this.#offset };
  }
}
