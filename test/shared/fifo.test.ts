import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fifo } from '../../shared/fifo.js';

describe('Fifo', () => {
  it('behaves as an array used as a queue, through compactions', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), value: fc.integer() }),
      fc.record({ kind: fc.constant('unshift' as const), value: fc.integer() }),
      fc.record({ kind: fc.constant('shift' as const), times: fc.integer({ min: 1, max: 3000 }) }),
      fc.record({ kind: fc.constant('pushMany' as const), times: fc.integer({ min: 1, max: 3000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const fifo = new Fifo<number>();
        const model: number[] = [];
        for (const step of ops) {
          if (step.kind === 'push') {
            fifo.push(step.value);
            model.push(step.value);
          } else if (step.kind === 'unshift') {
            fifo.unshift(step.value);
            model.unshift(step.value);
          } else if (step.kind === 'pushMany') {
            for (let i = 0; i < step.times; i++) {
              fifo.push(i);
              model.push(i);
            }
          } else {
            for (let i = 0; i < step.times; i++) expect(fifo.shift()).toBe(model.shift());
          }
          expect(fifo.length).toBe(model.length);
          expect(fifo.peek()).toBe(model[0]);
          expect(fifo.peekLast()).toBe(model.at(-1));
        }
        expect(fifo.toArray()).toEqual(model);
      }),
      { numRuns: 200 },
    );
  });
});
