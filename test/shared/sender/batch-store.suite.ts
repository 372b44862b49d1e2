import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { type Batch, batch, lastSeq } from '../../../shared/sender/batch.js';
import type { BatchStore } from '../../../shared/sender/batch-store.js';

/** How the shared suite gets stores (MQTT.js test/node/abstract_store.ts does the same). */
export interface StoreHarness {
  /** A fresh, empty store. */
  open(options?: { maxBytes?: number }): Promise<BatchStore>;
  /** Closes `store` and opens what it kept: only for stores that keep anything (the spool). */
  reopen?: (store: BatchStore) => Promise<BatchStore>;
}

/** A body of `count` LF-terminated JSON lines. */
export function lines(count: number, tag = 'r', pad = 0): Buffer {
  let text = '';
  for (let i = 0; i < count; i++) text += `${JSON.stringify({ msg: tag, i, pad: 'x'.repeat(pad) })}\n`;
  return Buffer.from(text);
}

/** Numbers `count` records with the store and appends them as one batch. */
export async function appendNew(store: BatchStore, count: number, tag = 'r', pad = 0): Promise<Batch> {
  const entry = batch(store.reserve(count), count, lines(count, tag, pad));
  await store.append(entry);
  return entry;
}

/** Batches as plain data, so stores that copy bodies compare equal. */
export function plain(batches: readonly Batch[]): { seq: number; count: number; body: string }[] {
  return batches.map(({ seq, count, body }) => ({ seq, count, body: body.toString() }));
}

/** The behaviour every BatchStore shares. */
export function batchStoreSuite(name: string, harness: StoreHarness): void {
  describe(`${name} (BatchStore suite)`, () => {
    const opened: BatchStore[] = [];
    const open = async (options?: { maxBytes?: number }): Promise<BatchStore> => {
      const store = await harness.open(options);
      opened.push(store);
      return store;
    };

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close().catch(() => {})));
    });

    describe('#reserve', () => {
      it('hands out consecutive numbers from 1', async () => {
        const store = await open();
        expect(store.nextSeq).toBe(1);
        expect(store.firstSeq).toBe(1);
        expect(store.reserve(3)).toBe(1);
        expect(store.reserve(2)).toBe(4);
        expect(store.nextSeq).toBe(6);
      });

      it('refuses a count below 1', async () => {
        const store = await open();
        expect(() => store.reserve(0)).toThrow(expect.objectContaining({ code: 'LW_ERR_BAD_PARAM' }));
        expect(() => store.reserve(1.5)).toThrow(expect.objectContaining({ code: 'LW_ERR_BAD_PARAM' }));
        expect(store.nextSeq).toBe(1);
      });
    });

    describe('#close', () => {
      it('refuses reserve and append after close', async () => {
        const store = await open();
        const seq = store.reserve(1);
        await store.close();
        expect(() => store.reserve(1)).toThrow(expect.objectContaining({ code: 'LW_ERR_CLOSED' }));
        await expect(store.append(batch(seq, 1, lines(1)))).rejects.toMatchObject({ code: 'LW_ERR_CLOSED' });
      });

      it('can be called twice', async () => {
        const store = await open();
        await Promise.all([store.close(), store.close()]);
        await store.close();
      });
    });

    describe('#append', () => {
      it('holds batches oldest first and counts them', async () => {
        const store = await open();
        const a = await appendNew(store, 2, 'a');
        const b = await appendNew(store, 3, 'b');
        expect(plain(store.unacked())).toEqual(plain([a, b]));
        expect(store.batches).toBe(2);
        expect(store.bytes).toBe(a.body.length + b.body.length);
        expect(store.firstSeq).toBe(1);
        expect(store.nextSeq).toBe(6);
      });

      it('gives a snapshot that later appends and acks leave alone', async () => {
        const store = await open();
        const a = await appendNew(store, 1);
        const snapshot = store.unacked();
        await appendNew(store, 1);
        await store.ack(1);
        expect(plain(snapshot)).toEqual(plain([a]));
      });

      it('refuses a batch that does not follow the last one', async () => {
        const store = await open();
        store.reserve(10);
        await store.append(batch(3, 2, lines(2)));
        await expect(store.append(batch(4, 1, lines(1)))).rejects.toMatchObject({ code: 'LW_ERR_BAD_PARAM' });
        await expect(store.append(batch(0, 1, lines(1)))).rejects.toMatchObject({ code: 'LW_ERR_BAD_PARAM' });
        expect(store.batches).toBe(1);
      });

      it('refuses numbers that were not reserved', async () => {
        const store = await open();
        store.reserve(2);
        await expect(store.append(batch(1, 3, lines(3)))).rejects.toMatchObject({
          code: 'LW_ERR_BAD_PARAM',
          message: expect.stringContaining('next unreserved number'),
        });
        expect(store.batches).toBe(0);
      });

      it('refuses with LW_ERR_QUEUE_FULL a batch past maxBytes, holding nothing', async () => {
        const body = lines(1);
        const store = await open({ maxBytes: body.length * 2 });
        expect(store.maxBytes).toBe(body.length * 2);
        await store.append(batch(store.reserve(1), 1, body));
        await store.append(batch(store.reserve(1), 1, body));
        expect(store.bytes).toBe(store.maxBytes);
        const seq = store.reserve(1);
        await expect(store.append(batch(seq, 1, body))).rejects.toMatchObject({ code: 'LW_ERR_QUEUE_FULL' });
        expect(store.batches).toBe(2);
        await store.ack(1);
        await store.append(batch(seq, 1, body));
        expect(store.unacked().map((entry) => entry.seq)).toEqual([2, 3]);
      });
    });

    describe('#ack', () => {
      it('forgets every batch whose last record is acknowledged', async () => {
        const store = await open();
        const a = await appendNew(store, 2);
        const b = await appendNew(store, 2);
        const c = await appendNew(store, 2);
        await store.ack(lastSeq(b));
        expect(plain(store.unacked())).toEqual(plain([c]));
        expect(store.bytes).toBe(c.body.length);
        expect(store.batches).toBe(1);
        expect(store.firstSeq).toBe(c.seq);
        expect(a.seq).toBe(1);
      });

      it('keeps a batch acknowledged in part, whole', async () => {
        const store = await open();
        await appendNew(store, 2);
        const b = await appendNew(store, 5);
        await store.ack(b.seq + 2);
        expect(plain(store.unacked())).toEqual(plain([b]));
        expect(store.firstSeq).toBe(b.seq);
      });

      it('is cumulative: a lower ack after a higher one changes nothing', async () => {
        const store = await open();
        await appendNew(store, 1);
        await appendNew(store, 1);
        const c = await appendNew(store, 1);
        await store.ack(2);
        await store.ack(1);
        expect(plain(store.unacked())).toEqual(plain([c]));
      });

      it('leaves firstSeq at nextSeq once everything is acknowledged', async () => {
        const store = await open();
        await appendNew(store, 3);
        await appendNew(store, 3);
        await store.ack(6);
        expect(store.unacked()).toEqual([]);
        expect(store.bytes).toBe(0);
        expect(store.batches).toBe(0);
        expect(store.firstSeq).toBe(store.nextSeq);
      });

      it('handles thousands of batches acked a few at a time', async () => {
        const store = await open();
        for (let i = 0; i < 2100; i++) await appendNew(store, 1);
        for (let last = 7; last <= 2093; last += 7) await store.ack(last);
        expect(store.firstSeq).toBe(2094);
        expect(store.unacked().map((entry) => entry.seq)).toEqual(
          Array.from({ length: 7 }, (_, i) => 2094 + i),
        );
      });
    });

    it('holds what a simple model holds, for any appends and acks', async () => {
      type Op =
        | { kind: 'append'; count: number; pad: number }
        | { kind: 'ack'; at: number }
        | { kind: 'reopen' };
      const op = fc.oneof(
        {
          weight: 5,
          arbitrary: fc.record({
            kind: fc.constant('append' as const),
            count: fc.integer({ min: 1, max: 4 }),
            pad: fc.integer({ min: 0, max: 40 }),
          }),
        },
        { weight: 2, arbitrary: fc.record({ kind: fc.constant('ack' as const), at: fc.nat() }) },
        ...(harness.reopen === undefined
          ? []
          : [{ weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) }]),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops: Op[]) => {
          let store = await open();
          let model: Batch[] = [];
          let acked = 0;
          for (const step of ops) {
            if (step.kind === 'append') {
              model.push(await appendNew(store, step.count, 'p', step.pad));
            } else if (step.kind === 'ack') {
              // Acks land anywhere up to the last number handed out, often inside a batch.
              const last = step.at % store.nextSeq;
              await store.ack(last);
              acked = Math.max(acked, last);
              model = model.filter((entry) => lastSeq(entry) > acked);
            } else if (harness.reopen !== undefined) {
              const before = store.nextSeq;
              store = await harness.reopen(store);
              opened.push(store);
              expect(store.nextSeq).toBeGreaterThanOrEqual(before);
            }
            expect(plain(store.unacked())).toEqual(plain(model));
            expect(store.bytes).toBe(model.reduce((sum, entry) => sum + entry.body.length, 0));
            expect(store.firstSeq).toBe(model[0]?.seq ?? store.nextSeq);
          }
          await store.close();
        }),
        { numRuns: harness.reopen === undefined ? 100 : 25 },
      );
    });
  });
}
