import { isAbsolute, normalize } from 'node:path';
import { LogwireError } from '../../shared/errors.js';

/**
 * An output path template (`path` in the config, default `{service}.log`), relative to the
 * output directory. Placeholders: `{service}`, `{host}`, `{source}` (names from REGISTER or the
 * UDP/ndjson equivalents, PROTOCOL.md §4) and `{yyyy}`, `{mm}`, `{dd}`, `{hh}`, the date of the
 * write (not of the record) in UTC, so files never depend on the host's time zone.
 *
 * Checked once, at config time: no absolute path, no `.`/`..`/hidden segment (that also keeps
 * templates out of `.state`), no unknown placeholder, not `_rejected.log`. The open-time
 * check against symlinks lives in confined-path.ts.
 */

export const DEFAULT_PATH_TEMPLATE = '{service}.log';

/** The file of rejected records; a service name cannot begin with `_`, so no template hits it. */
export const REJECTED_PATH = '_rejected.log';

/** PROTOCOL.md §4: what `source`, `service` and `host` may contain. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const FIELDS = ['service', 'host', 'source'] as const;
const DATE_PARTS = ['yyyy', 'mm', 'dd', 'hh'] as const;

type Field = (typeof FIELDS)[number];
type DatePart = (typeof DATE_PARTS)[number];
type Part = { readonly literal: string } | { readonly field: Field } | { readonly date: DatePart };

export interface PathValues {
  readonly service: string;
  readonly host: string;
  readonly source: string;
}

export class PathTemplate {
  readonly template: string;
  /** True when the path changes with the date (the router then expands per write). */
  readonly usesDate: boolean;
  readonly #parts: readonly Part[];

  private constructor(template: string, parts: readonly Part[]) {
    this.template = template;
    this.#parts = parts;
    this.usesDate = parts.some((part) => 'date' in part);
  }

  /** Checks a template from the config; `key` names it in errors (LW_ERR_BAD_OPTION). */
  static parse(template: string, key = 'path'): PathTemplate {
    const refuse = (why: string): never => {
      throw new LogwireError('LW_ERR_BAD_OPTION', `${key} = ${JSON.stringify(template)}: ${why}`);
    };
    if (typeof template !== 'string' || template === '') refuse('must be a non-empty path template');
    if (template.includes('\0')) refuse('must not contain a NUL character');
    if (isAbsolute(template)) refuse('must be relative to the output directory');
    const parts: Part[] = [];
    const re = /\{([^{}]*)\}/g;
    let last = 0;
    for (let m = re.exec(template); m !== null; m = re.exec(template)) {
      if (m.index > last) parts.push({ literal: template.slice(last, m.index) });
      const name = m[1] ?? '';
      if ((FIELDS as readonly string[]).includes(name)) parts.push({ field: name as Field });
      else if ((DATE_PARTS as readonly string[]).includes(name)) parts.push({ date: name as DatePart });
      else refuse(`unknown placeholder {${name}} (known: {service} {host} {source} {yyyy} {mm} {dd} {hh})`);
      last = m.index + m[0].length;
    }
    if (last < template.length) parts.push({ literal: template.slice(last) });
    const literalText = parts.map((part) => ('literal' in part ? part.literal : 'x')).join('');
    if (/[{}]/.test(literalText)) refuse('has an unmatched brace');
    if (template.endsWith('/')) refuse('must name a file, not a directory');
    // Placeholders expand to names starting with a letter or digit, so only literal text can
    // make a segment that starts with a dot: `..` would escape, `.state` would hit the state.
    for (const segment of literalText.split('/')) {
      if (segment.startsWith('.'))
        refuse(`segment ${JSON.stringify(segment)}: '..', '.' and hidden names are not allowed`);
    }
    if (normalize(literalText) === REJECTED_PATH) refuse(`${REJECTED_PATH} is the rejected-records file`);
    return new PathTemplate(template, parts);
  }

  /**
   * The relative path for these names at `timeMs` (UTC). A name outside PROTOCOL.md §4 (which
   * the sessions already refuse) fails with LW_ERR_PATH_ESCAPE rather than reach the disk.
   */
  expand(values: PathValues, timeMs: number): string {
    let out = '';
    let date: Date | undefined;
    for (const part of this.#parts) {
      if ('literal' in part) out += part.literal;
      else if ('field' in part) out += checkedName(part.field, values[part.field]);
      else {
        date ??= new Date(timeMs);
        out += datePart(date, part.date);
      }
    }
    return out;
  }
}

function checkedName(field: Field, value: string): string {
  if (NAME.test(value)) return value;
  throw new LogwireError(
    'LW_ERR_PATH_ESCAPE',
    `${field} ${JSON.stringify(value)} is not a valid name ([A-Za-z0-9][A-Za-z0-9._-]{0,63}); not used in a path`,
  );
}

function datePart(date: Date, part: DatePart): string {
  switch (part) {
    case 'yyyy':
      return String(date.getUTCFullYear()).padStart(4, '0');
    case 'mm':
      return String(date.getUTCMonth() + 1).padStart(2, '0');
    case 'dd':
      return String(date.getUTCDate()).padStart(2, '0');
    case 'hh':
      return String(date.getUTCHours()).padStart(2, '0');
  }
}
