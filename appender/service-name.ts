import { scriptName, toName } from './options.js';

/**
 * The service a session registers under when no `service` option names it (issue #4): the first
 * record's `name` (pino's `name` option), else the main script's name.
 */
export function serviceOf(body: Buffer): string {
  const end = body.indexOf(10);
  try {
    const record: unknown = JSON.parse(body.toString('utf8', 0, end === -1 ? body.length : end));
    if (typeof record === 'object' && record !== null && 'name' in record) {
      const name = (record as { name: unknown }).name;
      if (typeof name === 'string' && name !== '') return toName(name);
    }
  } catch {
    // Not JSON: the record check at the collector will say so.
  }
  return scriptName();
}

/** serviceOf the chunk's first record (empty lines skipped), when the chunk holds all of it. */
export function firstRecordService(chunk: string | Buffer): string | undefined {
  const text = typeof chunk === 'string';
  let start = 0;
  while (start < chunk.length && (text ? chunk.charCodeAt(start) : chunk[start]) === 10) start += 1;
  const end = text ? chunk.indexOf('\n', start) : chunk.indexOf(10, start);
  if (end === -1) return undefined;
  return serviceOf(text ? Buffer.from(chunk.slice(start, end)) : chunk.subarray(start, end));
}
