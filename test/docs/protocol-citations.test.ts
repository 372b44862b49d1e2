/**
 * What users read (errors, --help, docs) cites the protocol as docs/protocol.md §N, a file the
 * package ships, never the contract's PROTOCOL.md, which they do not have; and every section
 * cited exists in docs/protocol.md.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../shared/protocol/address.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PROTOCOL_DOC = readFileSync(join(ROOT, 'docs', 'protocol.md'), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Lines of code that are not comments: where a citation is text a user may see. */
function codeLines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .map((line) => line.replace(/\/\/ .*$/, ''));
}

describe('protocol citations users see', () => {
  const code = ['appender', 'collector', 'shared']
    .flatMap((dir) => sources(join(ROOT, dir)))
    .flatMap(codeLines);
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name !== 'protocol.md')
    .map((name) => readFileSync(join(ROOT, 'docs', name), 'utf8'))
    .concat(readFileSync(join(ROOT, 'README.md'), 'utf8'));

  it('never name PROTOCOL.md in a message or a user doc', () => {
    expect(code.filter((line) => line.includes('PROTOCOL.md'))).toEqual([]);
    for (const doc of docs) expect(doc).not.toContain('PROTOCOL.md');
  });

  it('cite sections that docs/protocol.md has', () => {
    const cited = new Set(
      code.flatMap((line) => [...line.matchAll(/docs\/protocol\.md §(\d+)/g)].map((m) => m[1]!)),
    );
    expect(cited.size).toBeGreaterThan(0);
    for (const section of cited) expect(PROTOCOL_DOC).toMatch(new RegExp(`^## ${section}\\. `, 'm'));
  });

  it('point a bad address at docs/protocol.md §9, the Addresses section', () => {
    expect(() => parseAddress('tcp:127.0.0.1')).toThrow(/\(docs\/protocol\.md §9\)$/);
    expect(PROTOCOL_DOC).toMatch(/^## 9\. Addresses$/m);
  });
});
