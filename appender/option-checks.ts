import { LogwireError } from '../shared/errors.js';
import { suggest } from '../shared/near-miss.js';
import { MAX_TIMER_MS } from '../shared/net/clock.js';

/**
 * Checks of one appender option value (options.ts), each throwing LW_ERR_BAD_OPTION with the
 * option's path and the shape expected ("appender option batch.maxBytes must be …").
 */

export type Fields = Record<string, unknown>;

export function bad(path: string, problem: string): LogwireError {
  return new LogwireError('LW_ERR_BAD_OPTION', `appender option ${path} ${problem}`);
}

export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}

export function object(
  value: unknown,
  path: string,
  keys: readonly string[],
  renamed: Readonly<Record<string, string>> = {},
): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad(path, `must be an object with ${keys.join(', ')}; got ${show(value)}`);
  }
  const fields = value as Fields;
  for (const key of Object.keys(fields)) {
    if (fields[key] === undefined) continue;
    if (!keys.includes(key)) {
      const newName = path === 'options' ? renamed[key] : undefined;
      const where = path === 'options' ? key : `${path}.${key}`;
      if (newName !== undefined) throw bad(where, `is not an option: it is called ${newName}`);
      const near = suggest(key, keys);
      throw bad(
        where,
        near === undefined
          ? `is not an option; the options${path === 'options' ? '' : ` of ${path}`} are ${keys.join(', ')}`
          : `is not an option; did you mean ${path === 'options' ? near : `${path}.${near}`}?`,
      );
    }
  }
  return fields;
}

export function integer(value: unknown, path: string, unit: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw bad(path, `must be a whole number of ${unit} from ${min} to ${max}; got ${show(value)}`);
  }
  return value;
}

export const size = (value: unknown, path: string, min = 1, max = Number.MAX_SAFE_INTEGER): number =>
  integer(value, path, 'bytes', min, max);
export const duration = (value: unknown, path: string, min = 0, max = MAX_TIMER_MS): number =>
  integer(value, path, 'milliseconds', min, max);

export function text(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '')
    throw bad(path, `must be a non-empty string; got ${show(value)}`);
  return value;
}
