import { randomBytes } from 'node:crypto';

/** PROTOCOL.md §4: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`. */
export const SOURCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const RANDOM_HEX = 16;

/**
 * A fresh source id: `<prefix>-<16 hex digits>`, or just the hex digits without a prefix. The
 * prefix is mapped to the §4 name rule (other characters become `_`, leading ones that cannot
 * start a name are dropped) and cut so the id fits in 64 characters.
 */
export function newSourceId(prefix = ''): string {
  const random = randomBytes(RANDOM_HEX / 2).toString('hex');
  const clean = prefix
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64 - RANDOM_HEX - 1);
  return clean === '' ? random : `${clean}-${random}`;
}
