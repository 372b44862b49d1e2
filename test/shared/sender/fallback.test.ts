import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFallback, NO_FALLBACK } from '../../../shared/sender/fallback.js';

describe('createFallback', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('appends records to a file, opened at the first write', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'logwire-fallback-'));
    dirs.push(dir);
    const path = join(dir, 'dropped.ndjson');
    const fallback = createFallback({ path });
    fallback.write(Buffer.from('{"a":1}\n'));
    fallback.write(Buffer.from('{"b":2}\n'));
    fallback.close();
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n{"b":2}\n');
  });

  it('never throws: a write it cannot do is counted', async () => {
    const fallback = createFallback({ path: join(tmpdir(), 'no-such-dir-logwire', 'x', 'dropped.ndjson') });
    expect(() => fallback.write(Buffer.from('{"a":1}\n'))).not.toThrow();
    expect(fallback.failedBytes).toBe(8);
    fallback.close();
    fallback.write(Buffer.from('{}\n'));
    expect(fallback.failedBytes).toBe(11);
  });

  it('drops everything when no fallback is set', () => {
    expect(createFallback(undefined)).toBe(NO_FALLBACK);
    expect(() => NO_FALLBACK.write(Buffer.from('x\n'))).not.toThrow();
  });
});
