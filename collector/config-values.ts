/**
 * The checks every part of the collector's configuration shares: errors that name the key and
 * the expected shape, unknown keys with a suggestion, permission modes, and the final freeze.
 */

import { LogwireError } from '../shared/errors.js';

/** A TOML table as smol-toml returns it (null-prototype objects). */
export type Table = Readonly<Record<string, unknown>>;

export function configError(message: string, cause?: unknown): LogwireError {
  return new LogwireError('LW_ERR_CONFIG', message, cause === undefined ? undefined : { cause });
}

/**
 * A permission mode: an octal string ("0640", "640", "0o640") or a number (TOML's 0o640).
 * `needed` are the owner bits without which the collector could not use what it creates.
 */
export function fileMode(value: unknown, key: string, where: string, needed: number): number | undefined {
  if (value === undefined) return undefined;
  let mode: number | undefined;
  if (typeof value === 'string' && /^(0o|0)?[0-7]{1,3}$/i.test(value)) {
    mode = Number.parseInt(value.replace(/^0o/i, ''), 8);
  } else if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0o777) {
    mode = value;
  }
  if (mode === undefined) {
    throw configError(
      `${where}${key} must be an octal permission mode as a string or TOML octal, ` +
        `like ${key} = "0640" or ${key} = 0o640 (got ${describe(value)})`,
    );
  }
  if ((mode & needed) !== needed) {
    throw configError(
      `${where}${key} = ${octal(mode)} leaves out the owner's ${octal(needed)}, which the collector needs`,
    );
  }
  return mode;
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

export function checkKeys(table: Table, known: readonly string[], where: string): void {
  for (const key of Object.keys(table)) {
    if (known.includes(key)) continue;
    const near = suggest(key, known);
    const hint =
      near === undefined
        ? `the keys are ${known.join(', ')}`
        : `did you mean "${near}"? (keys are snake_case)`;
    throw configError(`${where}unknown key "${key}"; ${hint}`);
  }
}

/** The known key a near miss meant: camelCase or kebab-case spelling, or a typo or two. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  const snake = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
  if (known.includes(snake)) return snake;
  let best: string | undefined;
  let bestDistance = Math.min(3, Math.ceil(snake.length / 3));
  for (const candidate of known) {
    const d = editDistance(snake, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

export function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object' && value !== null) return 'a table';
  return JSON.stringify(value) ?? String(value);
}

/** Freezes every object reached; the config holds no cycles. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
