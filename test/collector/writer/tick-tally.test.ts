/**
 * A tick's tally: the ACK wait of each session batch (from its arrival at the writer to the
 * commit), and none for batches nobody acknowledges (ndjson, UDP).
 */

import { expect, it } from 'vitest';
import { noteArrival, TickTally } from '../../../collector/writer/tick-tally.js';
import type { BatchJob } from '../../../collector/writer/write-job.js';

function job(mode: BatchJob['mode']): BatchJob {
  return {
    route: { source: 's', service: 'svc', host: 'h' },
    seq: 1,
    count: 1,
    body: Buffer.from('{}\n'),
    mode,
    done: () => {},
    fail: () => {},
  };
}

it('reports one ACK wait per session batch, measured from its arrival, and none for other batches', () => {
  const session = job('session');
  const others = [job('ndjson'), job('udp')];
  const before = performance.now();
  for (const j of [session, ...others]) noteArrival(j);
  const tally = new TickTally();
  for (const j of [session, ...others]) tally.take(j);
  const { ackWaitsMs, services } = tally.committed();
  expect(ackWaitsMs).toHaveLength(1);
  expect(ackWaitsMs[0]).toBeGreaterThanOrEqual(0);
  expect(ackWaitsMs[0]).toBeLessThanOrEqual(performance.now() - before);
  expect(services.get('svc')).toMatchObject({ records: 3, bytes: 9 });
});

it('reports no ACK wait for a session batch the writer never took in', () => {
  const tally = new TickTally();
  tally.take(job('session'));
  expect(tally.committed().ackWaitsMs).toEqual([]);
});
