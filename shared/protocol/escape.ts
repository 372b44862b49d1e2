/**
 * Value escaping (PROTOCOL.md §1). Writers escape `\`, LF and CR in every value, quote the
 * values that contain `;` or start with `"`, and inside quotes write `"` as `\"`. Reading is
 * one left-to-right pass, so every string round-trips, including one ending in a backslash.
 */

const NEEDS_ESCAPE = /[\\\n\r]/;
const ESCAPES = /[\\\n\r]/g;
const QUOTED_ESCAPES = /[\\\n\r"]/g;
const ESCAPE_OF: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '"': '\\"' };

function escapeChar(ch: string): string {
  return ESCAPE_OF[ch] ?? ch;
}

/** Formats one parameter value as it travels: plain, escaped, or quoted. */
export function formatValue(value: string): string {
  if (value.includes(';') || value.startsWith('"')) {
    return `"${value.replace(QUOTED_ESCAPES, escapeChar)}"`;
  }
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPES, escapeChar) : value;
}

/**
 * Undoes escaping in `text[start, end)`. `quoted` also allows `\"`. Returns the value, or
 * undefined when a backslash sequence is not one of the allowed ones (the line is invalid).
 */
export function unescapeValue(text: string, start: number, end: number, quoted: boolean): string | undefined {
  let backslash = text.indexOf('\\', start);
  if (backslash === -1 || backslash >= end) return text.slice(start, end);
  let out = '';
  let from = start;
  while (backslash !== -1 && backslash < end) {
    const next = text.charCodeAt(backslash + 1);
    let replacement: string;
    if (backslash + 1 >= end) return undefined;
    if (next === 0x5c) replacement = '\\';
    else if (next === 0x6e) replacement = '\n';
    else if (next === 0x72) replacement = '\r';
    else if (next === 0x22 && quoted) replacement = '"';
    else return undefined;
    out += text.slice(from, backslash) + replacement;
    from = backslash + 2;
    backslash = text.indexOf('\\', from);
  }
  return out + text.slice(from, end);
}
