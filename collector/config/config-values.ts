/**
 * The checks every part of the collector's configuration shares: errors that name the key and
 * the expected shape, unknown keys with a suggestion, permission modes, and the final freeze.
 */

import { LogwireError } from '../../shared/errors.js';
import { suggest } from '../../shared/near-miss.js';

export { suggest };

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
