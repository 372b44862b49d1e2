/**
 * Typed accessors over a message's parameters (PROTOCOL.md §1: numbers are plain decimal,
 * 0 to 2^53−1). Each `get*` throws a LogwireError that names the command (when given), the
 * parameter and the shape it expects; each `getOptional*` returns undefined when the parameter
 * is absent and throws the same way when it is present but malformed. The `parse*` functions
 * underneath return undefined instead of throwing, for checks on the hot path (definitions.ts).
 */

import { LogwireError } from '../errors.js';
import { type Address, parseAddress } from './address.js';
import type { Params } from './message.js';

/** A point in time as `sec[.nsec]` carries it: seconds and nanoseconds (0 to 999 999 999). */
export interface Timestamp {
  readonly sec: number;
  readonly nsec: number;
}

// No sign, no leading zero, no spaces, at most 16 digits (2^53−1 has 16): the same rule as `bytes`.
const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;
const TIMESTAMP = /^(0|[1-9][0-9]{0,15})(?:\.([0-9]{1,9}))?$/;
// PROTOCOL.md §4: source, service and host names.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A plain decimal integer from 0 to 2^53−1, or undefined. */
export function parseInteger(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return n <= Number.MAX_SAFE_INTEGER ? n : undefined;
}

/**
 * `true` or `false`; `1` and `0` are accepted too because eventdispatcher's tools send them.
 * Case-sensitive, like every name and command of the protocol.
 */
export function parseBoolean(text: string): boolean | undefined {
  switch (text) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      return undefined;
  }
}

/**
 * `sec[.frac]`: whole seconds, then an optional decimal fraction of 1 to 9 digits, so `1.5` is
 * one and a half seconds (nsec 500 000 000), as eventdispatcher's timespec_ex reads it.
 */
export function parseTimestamp(text: string): Timestamp | undefined {
  const m = TIMESTAMP.exec(text);
  if (m === null) return undefined;
  const sec = Number(m[1]);
  if (sec > Number.MAX_SAFE_INTEGER) return undefined;
  const frac = m[2];
  return { sec, nsec: frac === undefined ? 0 : Number(frac.padEnd(9, '0')) };
}

/** Formats a timestamp as `sec.nnnnnnnnn` (nine digits), which parseTimestamp reads back exactly. */
export function formatTimestamp(ts: Timestamp): string {
  return `${ts.sec}.${String(ts.nsec).padStart(9, '0')}`;
}

/** Milliseconds since the epoch, truncated to a whole millisecond (durations are whole ms). */
export function timestampToMs(ts: Timestamp): number {
  return ts.sec * 1000 + Math.trunc(ts.nsec / 1_000_000);
}

/**
 * A comma list: `a,b,c`; the empty string is the empty list. Items are taken as written (no
 * trimming) and may not be empty, so `a,,b` and `a,` are refused (undefined).
 */
export function parseList(text: string): string[] | undefined {
  if (text === '') return [];
  const items = text.split(',');
  for (const item of items) if (item === '') return undefined;
  return items;
}

/** True when `text` is a source, service or host name: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`. */
export function isName(text: string): boolean {
  return NAME.test(text);
}

// The expected shapes, worded for error messages.
const SHAPE = {
  integer: 'a plain decimal integer from 0 to 2^53-1 (digits only, no sign, no leading zero)',
  boolean: 'true, false, 1 or 0',
  timestamp: 'a timestamp sec[.fraction] (decimal seconds, up to 9 fraction digits)',
  list: 'a comma-separated list without empty items (empty value for an empty list)',
  name: 'a name [A-Za-z0-9][A-Za-z0-9._-]{0,63}',
} as const;

function where(name: string, command: string | undefined): string {
  return command === undefined ? `parameter ${name}` : `${command}: parameter ${name}`;
}

/** Shows a peer's value in an error without letting a 64 KiB value through. */
function shown(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

function missing(name: string, command: string | undefined, shape: string): LogwireError {
  return new LogwireError('LW_ERR_MISSING_PARAM', `${where(name, command)} is missing: give ${shape}`);
}

function bad(name: string, command: string | undefined, shape: string, value: string): LogwireError {
  return new LogwireError(
    'LW_ERR_BAD_PARAM',
    `${where(name, command)} must be ${shape}, got ${shown(value)}`,
  );
}

/** The raw value, or undefined; `typeof` guards against plain objects' inherited members. */
function raw(params: Params, name: string): string | undefined {
  const value = params[name];
  return typeof value === 'string' ? value : undefined;
}

function typed<T>(
  parse: (text: string) => T | undefined,
  shape: string,
): {
  get(params: Params, name: string, command?: string): T;
  optional(params: Params, name: string, command?: string): T | undefined;
} {
  const optional = (params: Params, name: string, command?: string): T | undefined => {
    const text = raw(params, name);
    if (text === undefined) return undefined;
    const value = parse(text);
    if (value === undefined) throw bad(name, command, shape, text);
    return value;
  };
  return {
    get(params, name, command) {
      const value = optional(params, name, command);
      if (value === undefined) throw missing(name, command, shape);
      return value;
    },
    optional,
  };
}

const integer = typed(parseInteger, SHAPE.integer);
const boolean = typed(parseBoolean, SHAPE.boolean);
const timestamp = typed(parseTimestamp, SHAPE.timestamp);
const list = typed(parseList, SHAPE.list);
const nameValue = typed((text) => (isName(text) ? text : undefined), SHAPE.name);

/** Any string, empty included. */
export function getString(params: Params, name: string, command?: string): string {
  const text = raw(params, name);
  if (text === undefined) throw missing(name, command, 'a value');
  return text;
}

export function getOptionalString(params: Params, name: string, _command?: string): string | undefined {
  return raw(params, name);
}

/** A plain decimal integer, 0 to 2^53−1 (see parseInteger). */
export const getInteger: (params: Params, name: string, command?: string) => number = integer.get;
export const getOptionalInteger: (params: Params, name: string, command?: string) => number | undefined =
  integer.optional;

/** `true`/`false`, also `1`/`0` (see parseBoolean). */
export const getBoolean: (params: Params, name: string, command?: string) => boolean = boolean.get;
export const getOptionalBoolean: (params: Params, name: string, command?: string) => boolean | undefined =
  boolean.optional;

/** `sec[.fraction]` (see parseTimestamp); timestampToMs converts the result. */
export const getTimestamp: (params: Params, name: string, command?: string) => Timestamp = timestamp.get;
export const getOptionalTimestamp: (params: Params, name: string, command?: string) => Timestamp | undefined =
  timestamp.optional;

/** A comma list; the empty value is [] (see parseList). */
export const getList: (params: Params, name: string, command?: string) => string[] = list.get;
export const getOptionalList: (params: Params, name: string, command?: string) => string[] | undefined =
  list.optional;

/** A source, service or host name (PROTOCOL.md §4). */
export const getName: (params: Params, name: string, command?: string) => string = nameValue.get;
export const getOptionalName: (params: Params, name: string, command?: string) => string | undefined =
  nameValue.optional;

/**
 * An address (PROTOCOL.md §9), checked by parseAddress. Its LW_ERR_BAD_ADDRESS becomes the
 * cause of an LW_ERR_BAD_PARAM that names the parameter, so callers branch on one code.
 */
export function getOptionalAddress(params: Params, name: string, command?: string): Address | undefined {
  const text = raw(params, name);
  if (text === undefined) return undefined;
  try {
    return parseAddress(text);
  } catch (cause) {
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    throw new LogwireError(
      'LW_ERR_BAD_PARAM',
      `${where(name, command)} must be an address scheme/host:port[/path], got ${shown(text)}${reason}`,
      { cause },
    );
  }
}

export function getAddress(params: Params, name: string, command?: string): Address {
  const value = getOptionalAddress(params, name, command);
  if (value === undefined) throw missing(name, command, 'an address scheme/host:port[/path]');
  return value;
}
