/**
 * The gathering before a small tick: it waits while input keeps coming turn after turn, and
 * goes at once when a turn brings nothing or enough is queued.
 */

import { setImmediate as nextTurn } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { GATHER_BYTES, gatherInput } from '../../../collector/writer/tick-gather.js';

/**
 * Input that arrives over `turns` turns, `bytes` each (its turns start before the gathering's,
 * as socket reads come before the writer's turn); how many turns came before the tick went.
 */
async function streamDuring(turns: number, bytes: number): Promise<number> {
  let submitted = 1;
  let queued = bytes;
  let turn = 0;
  let done = false;
  const pump = (async () => {
    while (!done) {
      await nextTurn();
      turn += 1;
      if (turn <= turns) {
        submitted += 1;
        queued += bytes;
      }
    }
  })();
  // A generous time limit: a machine too busy to turn the loop in 2 ms does not end it early.
  await gatherInput({ arrived: () => submitted, queuedBytes: () => queued }, 60_000);
  done = true;
  const waited = turn;
  await pump;
  return waited;
}

it('goes after one turn when nothing more arrives', async () => {
  expect(await streamDuring(0, 100)).toBe(1);
});

it('waits while input keeps arriving turn after turn', async () => {
  expect(await streamDuring(5, 100)).toBe(6);
});

it('goes at once when a tick is already big enough', async () => {
  let turns = 0;
  const counting = setInterval(() => {
    turns += 1;
  }, 0);
  await gatherInput({ arrived: () => turns, queuedBytes: () => GATHER_BYTES });
  clearInterval(counting);
  expect(turns).toBe(0);
});

it('stops waiting for a stream that never fills a tick (bounded by time)', async () => {
  // A stream that never stops and never reaches GATHER_BYTES: the gathering still ends.
  let submitted = 0;
  let streaming = true;
  const pump = async () => {
    while (streaming) {
      submitted += 1;
      await nextTurn();
    }
  };
  const pumping = pump();
  await gatherInput({ arrived: () => submitted, queuedBytes: () => 1 });
  streaming = false;
  await pumping;
  expect(submitted).toBeGreaterThan(1);
});
