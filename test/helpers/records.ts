import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import { type Message, message } from '../../shared/protocol/message.js';

/** `count` pino-like records numbered from `seq`, as one EVENTS body. */
export function recordsBody(seq: number, count: number, extra = ''): Buffer {
  let text = '';
  for (let n = seq; n < seq + count; n++)
    text += `{"level":30,"time":1795390800670,"n":${n},"msg":"record ${n}"${extra}}\n`;
  return Buffer.from(text);
}

export function eventsMessage(seq: number, count: number): Message {
  return message('EVENTS', { seq, count }, recordsBody(seq, count));
}

/** The `n` field of every line of a file, in order. */
export async function numbersIn(path: string): Promise<number[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { n: number }).n);
}

/** `numbers` is exactly 1…n, in order: every record once, none missing, none twice. */
export function expectOneToN(numbers: readonly number[], n: number): void {
  expect(numbers.length).toBe(n);
  for (let i = 0; i < n; i++)
    if (numbers[i] !== i + 1)
      expect.fail(`record ${i + 1} missing, out of order or twice (found ${numbers[i]})`);
}

/** Waits until `check` passes, polling on a short interval, or throws after the timeout. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw lastError;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
