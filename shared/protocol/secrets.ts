/**
 * Secrets never stored (PROTOCOL.md §5): `token` and `secret_code` never appear in logs, traces,
 * STATUS, error messages or the rejected-records file. This is the one place that masks them;
 * everything that stores or prints what a peer sent goes through it.
 *
 *   REGISTER version=1;source=a;token=hunter2   →   REGISTER version=1;source=a;token=***
 *
 * A line that parses has exactly its secret parameters' values replaced, byte for byte
 * elsewhere. A line that does not parse (a REGISTER sent to an ndjson listener, cut short, with
 * a stray quote) is masked by shape: any `token=` or `secret_code=` after a separator loses its
 * value up to the next `;` (or its closing quote), which may mask more than the secret, never less.
 */

import { SECRET_PARAMS } from './definitions.js';
import { findClosingQuote, HEAD } from './line.js';
import type { Params } from './message.js';

export const MASK = '***';

/**
 * Field names whose values are secret: the protocol's secret parameters, and the spellings the
 * configuration and options use for them.
 */
const SECRET_KEYS: ReadonlySet<string> = new Set([...SECRET_PARAMS, 'token', 'secret_code', 'secretCode']);
const SECRET_PARAM_NAMES: readonly string[] = [...new Set([...SECRET_PARAMS, 'token', 'secret_code'])];

/** `name=` of a secret parameter after the start, a space, `;` or anything not part of a name. */
const SECRET_ASSIGNMENT = new RegExp(`(?<![A-Za-z0-9_])(?:${SECRET_PARAM_NAMES.join('|')})=`, 'g');
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True for a field or parameter name whose value must never be shown. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key);
}

/** A copy of the parameters with each secret value replaced by MASK. */
export function maskParams(params: Params): Record<string, string> {
  const masked: Record<string, string> = Object.create(null);
  for (const name in params) masked[name] = isSecretKey(name) ? MASK : params[name]!;
  return masked;
}

/** Text (one line, or several separated by LF) with every secret parameter value masked. */
export function maskSecrets(text: string): string {
  SECRET_ASSIGNMENT.lastIndex = 0;
  if (!SECRET_ASSIGNMENT.test(text)) return text; // the common case: nothing to do
  return text
    .split('\n')
    .map((line) => maskLine(line))
    .join('\n');
}

/**
 * Bytes as received (any encoding, not necessarily UTF-8) with secrets masked. Read as latin1,
 * one character per byte, so every byte outside the masked values is kept as it was.
 */
export function maskSecretsInBytes(bytes: Buffer): Buffer {
  if (!SECRET_PARAM_NAMES.some((name) => bytes.includes(`${name}=`))) return bytes;
  const masked = maskSecrets(bytes.toString('latin1'));
  return Buffer.from(masked, 'latin1');
}

function maskLine(line: string): string {
  const cr = line.endsWith('\r') ? '\r' : '';
  const text = cr === '' ? line : line.slice(0, -1);
  const spans = secretSpans(text);
  return (spans === undefined ? maskByShape(text) : replaceSpans(text, spans)) + cr;
}

/** [start, end) of each secret value in a line that parses as a message; undefined if not. */
function secretSpans(text: string): [number, number][] | undefined {
  const head = HEAD.exec(text);
  if (head === null) return undefined;
  let pos = head[0].length;
  if (pos < text.length && text.charCodeAt(pos) !== 0x20) return undefined;
  pos += 1;
  const spans: [number, number][] = [];
  while (pos < text.length) {
    const eq = text.indexOf('=', pos);
    if (eq === -1) return undefined;
    const name = text.slice(pos, eq);
    if (!NAME_RE.test(name)) return undefined;
    let end: number;
    if (text.charCodeAt(eq + 1) === 0x22) {
      const close = findClosingQuote(text, eq + 2);
      if (close === -1) return undefined;
      end = close + 1;
      if (end < text.length && text.charCodeAt(end) !== 0x3b) return undefined;
    } else {
      const semicolon = text.indexOf(';', eq + 1);
      end = semicolon === -1 ? text.length : semicolon;
    }
    if (SECRET_PARAM_NAMES.includes(name)) spans.push([eq + 1, end]);
    pos = end + 1;
  }
  return spans;
}

function replaceSpans(text: string, spans: readonly [number, number][]): string {
  let out = '';
  let from = 0;
  for (const [start, end] of spans) {
    out += text.slice(from, start) + MASK;
    from = end;
  }
  return out + text.slice(from);
}

/** For text that is not a message: each `token=`/`secret_code=` value goes, quoted or not. */
function maskByShape(text: string): string {
  let out = '';
  let from = 0;
  SECRET_ASSIGNMENT.lastIndex = 0;
  for (let match = SECRET_ASSIGNMENT.exec(text); match !== null; match = SECRET_ASSIGNMENT.exec(text)) {
    const start = match.index + match[0].length;
    let end: number;
    if (text.charCodeAt(start) === 0x22) {
      const close = findClosingQuote(text, start + 1);
      end = close === -1 ? text.length : close + 1;
    } else {
      const semicolon = text.indexOf(';', start);
      end = semicolon === -1 ? text.length : semicolon;
    }
    out += text.slice(from, start) + MASK;
    from = end;
    SECRET_ASSIGNMENT.lastIndex = Math.max(end, start);
  }
  return out + text.slice(from);
}
