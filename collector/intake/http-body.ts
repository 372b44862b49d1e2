import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';

/**
 * Reads an HTTP ingest body, gunzipped when `Content-Encoding: gzip`, up to `maxBody` bytes of
 * records (counted after decompression, so a small gzip cannot expand without bound), and
 * checks it is NDJSON: every non-empty line a JSON object. All or nothing: a body with one bad
 * line is refused whole, so a retry is the same request.
 */

export type BodyOutcome =
  | { readonly kind: 'ok'; readonly body: Buffer; readonly count: number }
  | { readonly kind: 'too_large' }
  | { readonly kind: 'bad'; readonly reason: string };

const LF = 0x0a;

export async function readBody(request: IncomingMessage, maxBody: number): Promise<BodyOutcome> {
  const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') {
    return { kind: 'bad', reason: `Content-Encoding ${encoding} is not supported (gzip or none)` };
  }
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (encoding === 'identity' && declared > maxBody) return { kind: 'too_large' };
  const source = encoding === 'gzip' ? request.pipe(createGunzip()) : request;
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > maxBody) {
        source.destroy();
        return { kind: 'too_large' };
      }
      chunks.push(chunk);
    }
  } catch (error) {
    return { kind: 'bad', reason: `the body cannot be read: ${(error as Error).message}` };
  }
  return checkNdjson(Buffer.concat(chunks, bytes), maxBody);
}

/** The body's record lines, LF-terminated, without empty lines; or why it is refused. */
export function checkNdjson(raw: Buffer, maxBody: number): BodyOutcome {
  const text = raw.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(raw)) return { kind: 'bad', reason: 'the body is not valid UTF-8' };
  const lines: string[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    const record = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (record.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(record);
    } catch {
      return { kind: 'bad', reason: `line ${index + 1} is not JSON` };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { kind: 'bad', reason: `line ${index + 1} is not a JSON object` };
    }
    lines.push(record.trim());
  }
  if (lines.length === 0) return { kind: 'bad', reason: 'the body holds no record' };
  const body = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  if (body.length > maxBody) return { kind: 'too_large' };
  return { kind: 'ok', body, count: countLines(body) };
}

function countLines(body: Buffer): number {
  let count = 0;
  for (let at = body.indexOf(LF); at !== -1; at = body.indexOf(LF, at + 1)) count += 1;
  return count;
}
