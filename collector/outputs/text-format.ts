/**
 * The `text` format, the layout of the connpipe notes:
 *
 *   [2026-11-22 23:40:00.670 INFO service/host] message {"other":"fields"}
 *
 * built from a pino record: `time` (ms, or an ISO string) as a UTC date, `level` as a name,
 * `msg`, then every other field but pid/hostname/name (service and host stand for those) as
 * compact JSON, left out when there are none. Unlike `json`, this parses and re-encodes.
 */

const LEVEL_NAMES: ReadonlyMap<number, string> = new Map([
  [10, 'TRACE'],
  [20, 'DEBUG'],
  [30, 'INFO'],
  [40, 'WARN'],
  [50, 'ERROR'],
  [60, 'FATAL'],
]);

const OWN_FIELDS: ReadonlySet<string> = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'name']);

/** The latest date toISOString prints with a four-digit year. */
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * One text line (LF included) for a record line, or undefined when the line is not a JSON
 * object (the shape check lets `{oops}` through; the caller rejects it). `fallbackTime` (ms)
 * stands in for a missing or unreadable `time`.
 */
export function formatText(
  line: Buffer | string,
  service: string,
  host: string,
  fallbackTime: number,
): string | undefined {
  let record: unknown;
  try {
    record = JSON.parse(typeof line === 'string' ? line : line.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return undefined;
  const fields = record as Record<string, unknown>;
  let text = `[${formatTime(readTime(fields.time, fallbackTime))} ${levelName(fields.level)} ${service}/${host}]`;
  const msg = fields.msg;
  if (msg !== undefined && msg !== '') {
    text += ` ${oneLine(typeof msg === 'string' ? msg : String(JSON.stringify(msg)))}`;
  }
  const extra = otherFields(fields);
  if (extra !== undefined) text += ` ${extra}`;
  return `${text}\n`;
}

/** `2026-11-22 23:40:00.670` in UTC. */
export function formatTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

function readTime(time: unknown, fallback: number): number {
  const ms = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : Number.NaN;
  return Number.isFinite(ms) && ms >= 0 && ms <= MAX_TIME ? ms : fallback;
}

function levelName(level: unknown): string {
  if (typeof level === 'number') return LEVEL_NAMES.get(level) ?? String(level);
  // pino's formatters.level may already have made it a label.
  if (typeof level === 'string' && level !== '') return oneLine(level.toUpperCase());
  return '-';
}

/** Control characters would break the line (LF) or the terminal (ESC): escape them as JSON does. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

function otherFields(fields: Record<string, unknown>): string | undefined {
  // Null prototype: a record's own "__proto__" key stays a plain key.
  const rest: Record<string, unknown> = Object.create(null);
  let any = false;
  for (const key of Object.keys(fields)) {
    if (OWN_FIELDS.has(key)) continue;
    rest[key] = fields[key];
    any = true;
  }
  return any ? JSON.stringify(rest) : undefined;
}

/** The `text` format (format.ts): one laid-out line per record. */
export const TEXT_FORMAT = {
  verbatim: false,
  render(
    _body: Buffer,
    lines: readonly Buffer[],
    route: { readonly service: string; readonly host: string },
    now: number,
  ): { chunks: Buffer[]; unrenderable: Buffer[] } {
    const chunks: Buffer[] = [];
    const unrenderable: Buffer[] = [];
    for (const line of lines) {
      const text = formatText(line, route.service, route.host, now);
      if (text === undefined) unrenderable.push(line);
      else chunks.push(Buffer.from(text));
    }
    return { chunks, unrenderable };
  },
};
