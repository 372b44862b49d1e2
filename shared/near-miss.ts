/**
 * "Did you mean …?" for option and configuration keys: the known key a near miss meant. Shared by
 * the collector's configuration (snake_case keys) and the appender's options (camelCase), so a
 * key written in the other case, kebab-case, or with a typo or two is named the same way in both.
 */

/** The key without its spelling: lower case, without `_` or `-`. */
function spellingFree(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

/** The known key `key` most likely meant, or undefined when none is near. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  const wanted = spellingFree(key);
  const same = known.find((candidate) => spellingFree(candidate) === wanted);
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = Math.min(3, Math.ceil(wanted.length / 3));
  for (const candidate of known) {
    const d = editDistance(wanted, spellingFree(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
