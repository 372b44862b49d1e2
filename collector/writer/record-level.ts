/**
 * A record's pino level, read from its bytes without parsing the record: routing by level must
 * not cost a JSON.parse per record. pino writes `{"level":30,…` first, which the fast path reads
 * in a few byte compares; otherwise one pass over the line finds the top-level `"level"` key
 * (strings and nested objects skipped), so `{"msg":"\"level\":50","level":30}` reads 30.
 *
 * The value is a number, or one of pino's level names as a string (`formatters.level` writing
 * labels). Anything else (no level, another type, not an object) reads as undefined; the router
 * takes that as info (30). When a key repeats, the first wins (JSON.parse takes the last; pino
 * never repeats it).
 */

/** pino's level names and numbers. */
export const LEVELS: Readonly<Record<string, number>> = Object.freeze({
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
});

/** The level of a record without one (or with one that is not a number or a level name). */
export const DEFAULT_LEVEL = 30;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
/** `{"level":` — pino's first bytes. */
const PREFIX = Buffer.from('{"level":');
/** `level"` — the key after its opening quote. */
const KEY = Buffer.from('level"');

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

function isNumberByte(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x2d ||
    byte === 0x2b ||
    byte === 0x2e ||
    (byte | 0x20) === 0x65
  );
}

/** The level of the record in `line[start, end)`, or undefined (see above). */
export function readLevel(line: Buffer, start = 0, end = line.length): number | undefined {
  if (
    end - start > PREFIX.length &&
    line.compare(PREFIX, 0, PREFIX.length, start, start + PREFIX.length) === 0
  ) {
    // The common case: an unsigned integer right after the prefix.
    let value = 0;
    let i = start + PREFIX.length;
    const first = i;
    while (i < end && line[i]! >= 0x30 && line[i]! <= 0x39 && i - first < 15) {
      value = value * 10 + (line[i]! - 0x30);
      i += 1;
    }
    if (
      i > first &&
      (line[i] === COMMA || line[i] === CLOSE_BRACE) &&
      !(line[first] === 0x30 && i - first > 1)
    )
      return value;
  }
  return scanLevel(line, start, end);
}

/** The general case: one pass, tracking strings and depth, for `"level"` as a key at depth 1. */
function scanLevel(line: Buffer, start: number, end: number): number | undefined {
  let i = start;
  while (isSpace(line[i]) && i < end) i += 1;
  if (line[i] !== OPEN_BRACE) return undefined;
  let depth = 0;
  let expectKey = false;
  for (; i < end; i += 1) {
    const byte = line[i]!;
    if (byte === QUOTE) {
      if (depth === 1 && expectKey) {
        const value = keyIsLevel(line, i + 1, end);
        if (value !== undefined) return value.level;
      }
      i = stringEnd(line, i + 1, end);
      expectKey = false;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth += 1;
      expectKey = depth === 1;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth -= 1;
      if (depth === 0) return undefined;
    } else if (byte === COMMA) {
      expectKey = depth === 1;
    }
  }
  return undefined;
}

/** The index of the closing quote of the string whose content starts at `i` (or `end`). */
function stringEnd(line: Buffer, i: number, end: number): number {
  while (i < end) {
    const byte = line[i]!;
    if (byte === BACKSLASH) i += 2;
    else if (byte === QUOTE) return i;
    else i += 1;
  }
  return end;
}

/**
 * When the key starting at `i` (after its quote) is `level`: its value as a level (undefined
 * inside when not a number or a name). Undefined when the key is another.
 */
function keyIsLevel(line: Buffer, i: number, end: number): { level: number | undefined } | undefined {
  if (end - i < KEY.length || line.compare(KEY, 0, KEY.length, i, i + KEY.length) !== 0) return undefined;
  let j = i + KEY.length;
  while (j < end && isSpace(line[j])) j += 1;
  if (line[j] !== COLON) return undefined;
  j += 1;
  while (j < end && isSpace(line[j])) j += 1;
  if (line[j] === QUOTE) {
    const close = stringEnd(line, j + 1, end);
    const name = line.toString('latin1', j + 1, close);
    return { level: Object.hasOwn(LEVELS, name) ? LEVELS[name] : undefined };
  }
  let k = j;
  while (k < end && isNumberByte(line[k]!)) k += 1;
  if (k === j) return { level: undefined };
  const value = Number(line.toString('latin1', j, k));
  return { level: Number.isFinite(value) ? value : undefined };
}
