import { describe, expect, it } from 'vitest';
import { SkippedBatches } from '../../../shared/sender/skipped-batches.js';

describe('SkippedBatches', () => {
  it('counts a batch once, however often it is skipped again (resends)', () => {
    const skipped = new SkippedBatches();
    expect(skipped.add(11, 5)).toBe(true);
    expect(skipped.add(11, 5)).toBe(false);
    expect(skipped.has(11)).toBe(true);
  });

  it('settles only the batches wholly at or below the acknowledged number', () => {
    const skipped = new SkippedBatches();
    skipped.add(1, 3);
    skipped.add(10, 5);
    expect(skipped.settle(12)).toBe(3);
    expect(skipped.has(1)).toBe(false);
    expect(skipped.has(10)).toBe(true);
    expect(skipped.settle(14)).toBe(5);
    expect(skipped.settle(100)).toBe(0);
  });
});
