/**
 * The `json` format: each record's bytes as received, LF included — no parsing, no
 * re-encoding (pino-pretty reads it as it reads pino's own output).
 */

/**
 * Coalesces record lines into the fewest chunks for one writev: `lines` are views into `body`,
 * each followed there by its LF, in body order (as `splitBatch` returns them, minus any
 * skipped or rejected). Adjacent lines become one view, so a clean batch is one chunk.
 */
export function jsonChunks(body: Buffer, lines: readonly Buffer[]): Buffer[] {
  const chunks: Buffer[] = [];
  let start = -1;
  let end = -1;
  for (const line of lines) {
    const at = line.byteOffset - body.byteOffset;
    if (line.buffer !== body.buffer || at < 0 || at < end || body[at + line.length] !== 10) {
      throw new RangeError('jsonChunks: every line must be a view into the body, in order, before an LF');
    }
    if (at !== end) {
      if (start >= 0) chunks.push(body.subarray(start, end));
      start = at;
    }
    end = at + line.length + 1;
  }
  if (start >= 0) chunks.push(body.subarray(start, end));
  return chunks;
}

/** The `json` format (format.ts). */
export const JSON_FORMAT = {
  verbatim: true,
  render: (body: Buffer, lines: readonly Buffer[]) => ({ chunks: jsonChunks(body, lines), unrenderable: [] }),
};
