/**
 * What `logwire ship` makes of one input line: a record line for the appender. A line that is
 * a JSON object goes as it is (with the file's fields in front when it came from a file); any
 * other line (plain text, a JSON array or number, a broken JSON) is wrapped as a pino-shaped
 * record `{"level":30,"time":<ms>,"msg":<the line>}` so that nothing read is lost.
 */

/** The fields a followed file's records get, in front of the record's own. */
export interface FileFields {
  /** The path the file was followed under. */
  readonly path: string;
  /**
   * ship's resume cursor: `<read id>:<byte offset after this line>` (ship/file-cursor.ts). It
   * comes first in the record so a restart can read it back from the spool without parsing.
   */
  readonly cursor: string;
}

/** The key of the resume cursor, always the record's first field. */
export const CURSOR_KEY = 'logwire_cursor';
/** pino's `info`. */
const INFO = 30;

export type LineKind = 'json' | 'wrapped' | 'empty';

export interface ShipRecord {
  readonly kind: LineKind;
  /** The record line without its LF; empty for an empty line (not a record). */
  readonly line: string;
}

/**
 * Turns one input line (without its LF; a trailing CR is dropped) into a record line. `now` is
 * the time a wrapped line gets. Pure apart from the clock it is given.
 */
export function toRecord(text: string, now: number, file?: FileFields): ShipRecord {
  const line = text.endsWith('\r') ? text.slice(0, -1) : text;
  if (line.trim() === '') return { kind: 'empty', line: '' };
  const object = jsonObject(line);
  if (object === undefined) {
    const wrapped = `{"level":${INFO},"time":${now},"msg":${JSON.stringify(line)}}`;
    return { kind: 'wrapped', line: withFileFields(wrapped, file, false) };
  }
  // Kept as written: JSON.parse refuses raw control characters, so it is one line already.
  return { kind: 'json', line: withFileFields(line.trim(), file, 'file' in object) };
}

/** The parsed object, or undefined when the line is not exactly a JSON object. */
function jsonObject(line: string): Record<string, unknown> | undefined {
  const start = line.trimStart();
  if (!start.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** `{…}` with the cursor (and `file`, unless the record has its own) spliced in first. */
function withFileFields(objectLine: string, file: FileFields | undefined, hasFile: boolean): string {
  if (file === undefined) return objectLine;
  const rest = objectLine.slice(1).trimStart();
  const fields = [`"${CURSOR_KEY}":${JSON.stringify(file.cursor)}`];
  if (!hasFile) fields.push(`"file":${JSON.stringify(file.path)}`);
  return `{${fields.join(',')}${rest.startsWith('}') ? '' : ','}${rest}`;
}
