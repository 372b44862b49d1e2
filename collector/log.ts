/**
 * The collector's own log, on stderr in the text layout of issue #5 (UTC):
 *
 *   [2026-11-22 23:40:00.670 INFO logwire/myhost] listener bound {"address":"tcp/127.0.0.1:4043"}
 *
 * One line per entry, whatever the message holds. Secrets never appear (PROTOCOL.md §5): any
 * field named like a secret parameter is masked, at any depth, and so is a `token=`/`secret_code=`
 * in the message or in any text field (shared/protocol/secrets.ts). Trace lines only with `--trace`.
 */

import { hostname } from 'node:os';
import { isSecretKey, MASK, maskSecrets } from '../shared/protocol/secrets.js';
import type { CollectorLog } from './config/config-types.js';

export type LogLevel = 'TRACE' | 'INFO' | 'WARN' | 'ERROR';

export interface CollectorLogOptions {
  readonly trace: boolean;
  /** Default process.stderr. */
  readonly stream?: NodeJS.WritableStream;
  /** Wall-clock milliseconds since the epoch, injected by tests. Default Date.now. */
  readonly clock?: () => number;
  /** Default os.hostname(). */
  readonly hostname?: string;
}

export function createCollectorLog(options: CollectorLogOptions): CollectorLog {
  const stream = options.stream ?? process.stderr;
  const clock = options.clock ?? Date.now;
  const name = `logwire/${options.hostname ?? hostname()}`;
  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    stream.write(`${formatLogLine(clock(), level, name, msg, fields)}\n`);
  };
  const trace = options.trace;
  return Object.freeze({
    info: (msg: string, fields?: Record<string, unknown>) => write('INFO', msg, fields),
    warn: (msg: string, fields?: Record<string, unknown>) => write('WARN', msg, fields),
    error: (msg: string, fields?: Record<string, unknown>) => write('ERROR', msg, fields),
    trace: (msg: string, fields?: Record<string, unknown>) => {
      if (trace) write('TRACE', msg, fields);
    },
  });
}

/** One log line without its LF: `[YYYY-MM-DD HH:MM:SS.mmm LEVEL name] message {fields}`. */
export function formatLogLine(
  time: number,
  level: LogLevel,
  name: string,
  msg: string,
  fields?: Record<string, unknown>,
): string {
  const stamp = new Date(time).toISOString().slice(0, 23).replace('T', ' ');
  const head = `[${stamp} ${level} ${name}] ${oneLine(maskSecrets(msg))}`;
  if (fields === undefined || Object.keys(fields).length === 0) return head;
  return `${head} ${fieldsJson(fields)}`;
}

/** Compact JSON with secrets masked; JSON escapes any line break, so the entry stays one line. */
function fieldsJson(fields: Record<string, unknown>): string {
  try {
    return JSON.stringify(fields, replacer);
  } catch {
    // A cycle: say so rather than lose the message.
    return '{"fields":"unserializable"}';
  }
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  if (key !== '' && isSecretKey(key) && value !== undefined) return MASK;
  if (typeof value === 'string') return maskSecrets(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    const message = maskSecrets(value.message);
    return code === undefined ? { message } : { code, message };
  }
  return value;
}

function oneLine(text: string): string {
  return text.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}
