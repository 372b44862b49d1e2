import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { createSharedRing, RingConsumer, RingProducer } from '../../appender/shared-ring.js';

type Op =
  | { readonly kind: 'write'; readonly text: string }
  | { readonly kind: 'publish' }
  | { readonly kind: 'take' };

const textArb = fc.string({
  unit: fc.constantFrom('a', 'b', 'é', '€', '🙂', '\n'),
  minLength: 0,
  maxLength: 40,
});
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: textArb.map((text) => ({ kind: 'write' as const, text })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'publish' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'take' as const }) },
);

describe('shared ring', () => {
  it('gives back every accepted write once, in order, in whole writes, across wrap-around', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 300 }), fc.array(opArb, { maxLength: 300 }), (size, ops) => {
        const ring = createSharedRing(size);
        const producer = new RingProducer(ring);
        const consumer = new RingConsumer(ring);
        const accepted: Buffer[] = [];
        /** Byte offsets (in all accepted bytes) where a write ends. */
        const boundaries = new Set<number>([0]);
        let acceptedBytes = 0;
        let published = 0;
        const taken: Buffer[] = [];
        let takenBytes = 0;
        for (const op of ops) {
          if (op.kind === 'write') {
            const bytes = Buffer.from(op.text);
            const emptyBefore = takenBytes === acceptedBytes;
            const ok = producer.writeString(op.text);
            // An empty ring takes any write up to half its size, whatever its position.
            if (emptyBefore && bytes.length < (size - 1) / 2) expect(ok).toBe(true);
            if (ok) {
              accepted.push(bytes);
              acceptedBytes += bytes.length;
              boundaries.add(acceptedBytes);
            }
          } else if (op.kind === 'publish') {
            producer.publish();
            published = acceptedBytes;
          } else {
            const chunk = consumer.take();
            if (chunk === undefined) expect(takenBytes).toBe(published);
            else {
              taken.push(chunk);
              takenBytes += chunk.length;
              expect(takenBytes).toBe(published);
              expect(boundaries.has(takenBytes)).toBe(true);
            }
          }
        }
        producer.publish();
        const rest = consumer.take();
        if (rest !== undefined) taken.push(rest);
        expect(Buffer.concat(taken).toString()).toBe(Buffer.concat(accepted).toString());
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a write that does not fit and takes it once the consumer has made room', () => {
    const ring = createSharedRing(16);
    const producer = new RingProducer(ring);
    const consumer = new RingConsumer(ring);
    expect(producer.writeBytes(Buffer.from('0123456789'))).toBe(true);
    expect(producer.writeBytes(Buffer.from('abcdefg'))).toBe(false);
    producer.publish();
    expect(consumer.take()?.toString()).toBe('0123456789');
    // Wraps: the tail has 6 bytes, the start 9.
    expect(producer.writeBytes(Buffer.from('abcdefgh'))).toBe(true);
    expect(producer.writeBytes(Buffer.from('ij'))).toBe(false);
    producer.publish();
    expect(consumer.take()?.toString()).toBe('abcdefgh');
    expect(consumer.take()).toBeUndefined();
  });

  it('a sleeping consumer is woken by the next publish, once', () => {
    const ring = createSharedRing(64);
    const producer = new RingProducer(ring);
    const consumer = new RingConsumer(ring);
    expect(consumer.sleep()).toBe(true);
    producer.writeString('line\n');
    expect(producer.publish()).toBe(true);
    producer.writeString('more\n');
    expect(producer.publish()).toBe(false);
    expect(consumer.take()?.toString()).toBe('line\nmore\n');
    // Published before it says it sleeps: it does not sleep.
    producer.writeString('x\n');
    producer.publish();
    expect(consumer.sleep()).toBe(false);
    expect(consumer.take()?.toString()).toBe('x\n');
  });

  it('the text counter tells when the consumer has caught up', () => {
    const ring = createSharedRing(64);
    const producer = new RingProducer(ring);
    const consumer = new RingConsumer(ring);
    producer.writeString('a\n');
    producer.publish();
    expect(producer.caughtUp(0)).toBe(false);
    consumer.take();
    expect(producer.caughtUp(0)).toBe(true);
    expect(producer.caughtUp(1)).toBe(false);
    consumer.tookText();
    expect(producer.caughtUp(1)).toBe(true);
  });

  describe('producer and consumer on two threads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-ring-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('every line arrives once, in order, through a small ring that wraps and fills', async () => {
      // The consumer runs the ring's own code, compiled to JavaScript for the worker.
      const source = readFileSync(
        join(import.meta.dirname, '..', '..', 'appender', 'shared-ring.ts'),
        'utf8',
      );
      const compiled = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      writeFileSync(join(dir, 'shared-ring.mjs'), compiled);
      writeFileSync(
        join(dir, 'consumer.mjs'),
        `import { parentPort, workerData } from 'node:worker_threads';
import { RingConsumer } from './shared-ring.mjs';
const consumer = new RingConsumer(workerData.ring);
const parts = [];
let lines = 0;
while (lines < workerData.lines) {
  const chunk = consumer.take();
  if (chunk === undefined) { Atomics.wait(workerData.ring.control, 0, Atomics.load(workerData.ring.control, 0), 5); continue; }
  parts.push(chunk);
  for (const byte of chunk) if (byte === 10) lines++;
}
parentPort.postMessage(Buffer.concat(parts).toString());
`,
      );
      const ring = createSharedRing(1000);
      const lines = 20_000;
      const worker = new Worker(join(dir, 'consumer.mjs'), { workerData: { ring, lines } });
      try {
        const received = new Promise<string>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
        const producer = new RingProducer(ring);
        let full = 0;
        for (let n = 0; n < lines; n++) {
          const line = `{"n":${n},"pad":"${'é'.repeat(n % 37)}"}\n`;
          while (!producer.writeString(line)) {
            full++;
            producer.publish();
            Atomics.notify(ring.control, 0);
            // Lets the consumer run (a test may wait; the appender never does).
            await new Promise((resolve) => setImmediate(resolve));
          }
          if (n % 7 === 0) {
            producer.publish();
            Atomics.notify(ring.control, 0);
          }
        }
        producer.publish();
        Atomics.notify(ring.control, 0);
        const text = await received;
        const numbers = text
          .split('\n')
          .filter(Boolean)
          .map((line) => (JSON.parse(line) as { n: number }).n);
        expect(numbers).toEqual(Array.from({ length: lines }, (_, n) => n));
        expect(full).toBeGreaterThan(0);
      } finally {
        await worker.terminate();
      }
    });
  });
});
