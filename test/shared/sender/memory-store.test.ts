import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../shared/sender/memory-store.js';
import { appendNew, batchStoreSuite } from './batch-store.suite.js';

batchStoreSuite('MemoryStore', {
  open: async (options) => new MemoryStore(options),
});

describe('MemoryStore', () => {
  it('is unbounded by default', () => {
    expect(new MemoryStore().maxBytes).toBe(Number.POSITIVE_INFINITY);
  });

  it('keeps unacknowledged batches readable after close, for the close report', async () => {
    const store = new MemoryStore();
    await appendNew(store, 2);
    await store.close();
    expect(store.unacked()).toHaveLength(1);
  });
});
