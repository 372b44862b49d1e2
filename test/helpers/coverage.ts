import { expect } from 'vitest';
import type { Coverage } from '../../shared/dispatcher/coverage.js';

/** `exercised`: sent or received (default); `sent`, `received`: that direction; `both`: both. */
export type CoverageKind = 'exercised' | 'sent' | 'received' | 'both';

/**
 * Fails, naming them, when some of `commands` were not seen by `coverage` as `kind` says.
 * Use it at the end of a suite: `expectCovered(defaultCoverage, PROTOCOL_COMMANDS)`.
 */
export function expectCovered(
  coverage: Coverage,
  commands: Iterable<string>,
  kind: CoverageKind = 'exercised',
): void {
  const counts = coverage.counts();
  const missing: string[] = [];
  for (const command of commands) {
    const count = counts[command];
    const sent = count !== undefined && count.sent > 0;
    const received = count !== undefined && count.received > 0;
    const ok =
      kind === 'sent'
        ? sent
        : kind === 'received'
          ? received
          : kind === 'both'
            ? sent && received
            : sent || received;
    if (!ok) missing.push(command);
  }
  expect(missing, `commands never ${kind === 'exercised' ? 'sent or received' : kind}`).toEqual([]);
}
