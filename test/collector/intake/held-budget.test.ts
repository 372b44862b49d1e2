/**
 * The held budget's accounting: bytes held for unfinished messages across links, plus the
 * writer's backlog, against one limit; over it, every holder but one (the grant) stops being
 * read, the largest first, and all are read again at half the limit.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeldBudget } from '../../../collector/intake/held-budget.js';

function budget(limit: number) {
  const stopped = new Set<string>();
  const log: string[] = [];
  const b = new HeldBudget<string>({
    limit: () => limit,
    stop: (key) => {
      if (stopped.has(key)) throw new Error(`${key} stopped twice`);
      stopped.add(key);
      log.push(`stop ${key}`);
    },
    resume: (key) => {
      if (!stopped.delete(key)) throw new Error(`${key} resumed while read`);
      log.push(`resume ${key}`);
    },
  });
  return { b, stopped, log };
}

describe('HeldBudget', () => {
  it('sums what each holder holds, and forgets a holder that leaves', () => {
    const { b, stopped } = budget(1000);
    b.update('a', 100);
    b.update('b', 200);
    b.update('a', 300);
    expect(b.heldBytes).toBe(500);
    b.remove('b');
    expect(b.heldBytes).toBe(300);
    b.update('a', 0);
    expect(b.heldBytes).toBe(0);
    expect(stopped.size).toBe(0);
    expect(b.state).toBe('within');
  });

  it('over the limit stops every holder, largest first, but the smallest (the grant)', () => {
    const { b, stopped, log } = budget(1000);
    b.update('small', 100);
    b.update('big', 500);
    b.update('mid', 300);
    b.update('huge', 200); // 1100 > 1000
    expect(b.state).toBe('over');
    expect(log).toEqual(['stop big', 'stop mid', 'stop huge']);
    expect([...stopped].sort()).toEqual(['big', 'huge', 'mid']);
    expect(b.stoppedCount).toBe(3);
  });

  it('lets a link holding nothing read on, and stops it once it holds bytes', () => {
    const { b, stopped } = budget(1000);
    b.update('a', 600);
    b.update('b', 600);
    expect([...stopped]).toEqual(['b']);
    b.update('c', 0);
    expect(stopped.has('c')).toBe(false);
    b.update('c', 10);
    expect(stopped.has('c')).toBe(true);
  });

  it('passes the grant on when its message is whole, and resumes all at half the limit', () => {
    const { b, stopped, log } = budget(1000);
    b.update('a', 400);
    b.update('b', 500);
    b.update('c', 600); // over: a is the grant
    expect([...stopped].sort()).toEqual(['b', 'c']);
    b.update('a', 900); // the grant reads on past the limit
    expect(stopped.has('a')).toBe(false);
    b.update('a', 0); // its message is whole: b (smallest) may finish next
    expect(log.at(-1)).toBe('resume b');
    expect([...stopped]).toEqual(['c']);
    b.remove('c'); // 500 ≤ 1000 / 2; a holder that left is not resumed
    expect(b.state).toBe('within');
    expect(b.stoppedCount).toBe(0);
    expect(log).not.toContain('resume c');
  });

  it('counts the writer backlog toward the same limit', () => {
    const { b, stopped } = budget(1000);
    b.update('a', 100);
    b.update('b', 200);
    b.setQueued(900);
    expect(b.state).toBe('over');
    expect([...stopped]).toEqual(['b']);
    b.setQueued(0);
    expect(b.state).toBe('within');
    expect(stopped.size).toBe(0);
  });

  it('keeps its invariants under any sequence of updates, removals and backlogs', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('update' as const),
        key: fc.integer({ min: 0, max: 5 }),
        bytes: fc.nat(600),
      }),
      fc.record({ kind: fc.constant('remove' as const), key: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('queued' as const), bytes: fc.nat(1500) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { b, stopped } = budget(1000);
        const held = new Map<string, number>();
        let queued = 0;
        for (const o of ops) {
          if (o.kind === 'queued') {
            queued = o.bytes;
            b.setQueued(o.bytes);
            continue;
          }
          const key = `k${o.key}`;
          // A stopped holder is not read: its bytes change only when it leaves.
          if (o.kind === 'update' && stopped.has(key)) continue;
          if (o.kind === 'remove') {
            held.delete(key);
            stopped.delete(key);
            b.remove(key);
          } else {
            held.set(key, o.bytes);
            b.update(key, o.bytes);
          }
          const total = [...held.values()].reduce((sum, n) => sum + n, 0);
          expect(b.heldBytes).toBe(total);
          if (b.state === 'within') expect(stopped.size).toBe(0);
          if (total + queued > 1000) expect(b.state).toBe('over');
          // Over the limit, at most one holder with bytes is still read: the grant.
          const read = [...held].filter(([k, n]) => n > 0 && !stopped.has(k));
          if (b.state === 'over') expect(read.length).toBeLessThanOrEqual(1);
        }
      }),
    );
  });
});
