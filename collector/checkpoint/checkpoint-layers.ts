/**
 * The checkpoint's merged view: a key's value is looked up in the staged changes, then in the
 * commits under way (newest first), then in the store's state; `null` in a layer forgets it.
 */

import type { CheckpointDelta } from './checkpoint-store.js';

/** A key's value through the layers, newest first: staged, then committing, then on disk. */
export function lookup<V>(
  key: string,
  staged: ReadonlyMap<string, V | null>,
  inflight: readonly CheckpointDelta[],
  layer: (delta: CheckpointDelta) => ReadonlyMap<string, V | null>,
  stored: ReadonlyMap<string, V>,
): V | undefined {
  if (staged.has(key)) return staged.get(key) ?? undefined;
  for (let i = inflight.length - 1; i >= 0; i--) {
    const changes = layer(inflight[i] as CheckpointDelta);
    if (changes.has(key)) return changes.get(key) ?? undefined;
  }
  return stored.get(key);
}

/** Keys of the merged view, each once, without those a newer layer forgets. */
export function* mergedKeys(
  layers: readonly ReadonlyMap<string, unknown>[],
  present: (key: string) => boolean,
): IterableIterator<string> {
  const seen = new Set<string>();
  for (const layer of layers) {
    for (const key of layer.keys()) {
      if (seen.has(key)) continue;
      seen.add(key);
      if (present(key)) yield key;
    }
  }
}
