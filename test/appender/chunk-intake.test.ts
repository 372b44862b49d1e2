import { setImmediate as nextIoTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ChunkIntake, DEFER_MIN, MAX_DEFERRED } from '../../appender/chunk-intake.js';

function intake(overrides: { defer?: boolean; awaitingReady?: () => boolean } = {}) {
  const events: string[] = [];
  const seen: { chunk: string | Buffer; batching: boolean }[] = [];
  const chunks = new ChunkIntake({
    push: (chunk) => {
      seen.push({ chunk, batching: chunks.batching });
      events.push(`push ${chunk.length}`);
    },
    batched: () => events.push(`batched ${chunks.batching}`),
    defer: overrides.defer ?? true,
    awaitingReady: overrides.awaitingReady ?? (() => false),
  });
  return { chunks, events, seen };
}

const large = (n = DEFER_MIN) => `${'x'.repeat(n - 1)}\n`;

describe('ChunkIntake', () => {
  it('pushes a small chunk at once, and a large one once the caller has returned', async () => {
    const { chunks, events } = intake();
    chunks.take('{"a":1}\n');
    expect(events).toEqual(['push 8']);
    chunks.take(large());
    expect(chunks.pending).toBe(true);
    expect(events).toEqual(['push 8']);
    await Promise.resolve();
    expect(events).toEqual(['push 8', `push ${DEFER_MIN}`, 'batched false']);
    expect(chunks.pending).toBe(false);
  });

  it('keeps the order: a small chunk after a deferred one waits behind it', async () => {
    const { chunks, events } = intake();
    chunks.take(large());
    chunks.take('{"b":2}\n');
    expect(events).toEqual([]);
    await Promise.resolve();
    expect(events).toEqual([`push ${DEFER_MIN}`, 'push 8', 'batched false']);
  });

  it('cuts every deferred chunk before anything is sent: batching is true during the pushes only', async () => {
    const { chunks, seen, events } = intake();
    chunks.take(large());
    chunks.take(large());
    await Promise.resolve();
    expect(seen.map((s) => s.batching)).toEqual([true, true]);
    expect(events.at(-1)).toBe('batched false');
    expect(events.filter((e) => e.startsWith('batched'))).toHaveLength(1);
  });

  it("pushes large chunks at once when it may not defer ('block')", () => {
    const { chunks, events } = intake({ defer: false });
    chunks.take(large());
    expect(events).toEqual([`push ${DEFER_MIN}`]);
  });

  it('batches at once past MAX_DEFERRED of waiting input', () => {
    const { chunks, events } = intake();
    const chunk = large(MAX_DEFERRED / 2);
    chunks.take(chunk);
    expect(events).toEqual([]);
    chunks.take(chunk);
    expect(events).toEqual([`push ${chunk.length}`, `push ${chunk.length}`, 'batched false']);
  });

  it('batchDeferred() batches what waits now (flush, end)', () => {
    const { chunks, events } = intake();
    chunks.take(large());
    chunks.batchDeferred();
    expect(events).toEqual([`push ${DEFER_MIN}`, 'batched false']);
    chunks.batchDeferred();
    expect(events).toHaveLength(2);
  });

  it('while READY is awaited, waits for the next I/O turn rather than a microtask', async () => {
    const { chunks, events } = intake({ awaitingReady: () => true });
    chunks.take(large());
    await Promise.resolve();
    expect(events).toEqual([]);
    await nextIoTurn();
    expect(events).toEqual([`push ${DEFER_MIN}`, 'batched false']);
  });

  it('ends batching even when a push throws', () => {
    const chunks = new ChunkIntake({
      push: () => {
        throw new Error('boom');
      },
      batched: () => {},
      defer: true,
      awaitingReady: () => false,
    });
    chunks.take(large());
    expect(() => chunks.batchDeferred()).toThrow('boom');
    expect(chunks.batching).toBe(false);
  });
});
