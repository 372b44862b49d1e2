/**
 * When a session's ACKs leave (PROTOCOL.md §4, ack_delay): held while more of its batches are
 * being written, at most ack_delay, and at once when none is left or the session drains.
 * The writer is a fake whose batches the test completes, and ack_delay runs on a manual clock.
 */

import { describe, expect, it } from 'vitest';
import { collectorClock } from '../../../collector/clock.js';
import type { CollectorConfig } from '../../../collector/config/config-types.js';
import type { CollectorCounters } from '../../../collector/counters.js';
import { DataSlots } from '../../../collector/intake/data-slots.js';
import type { CollectorContext } from '../../../collector/intake/dispatch-context.js';
import { Session, type SessionDeps } from '../../../collector/intake/session.js';
import type { BatchJob } from '../../../collector/writer/write-job.js';
import { ManualClock } from '../../../shared/net/clock.js';
import type { Messenger } from '../../../shared/net/messenger.js';
import { type Message, message } from '../../../shared/protocol/message.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(ackDelay: number, bodyBytes = 0) {
  const clock = new ManualClock();
  const jobs: BatchJob[] = [];
  const sent: Message[] = [];
  let config = { ackDelay, maxSources: 10, maxBody: 1 << 20, registerTimeout: 10_000 } as CollectorConfig;
  const messenger = {
    closed: false,
    send: (msg: Message) => sent.push(msg) > 0,
    close() {},
    destroy() {},
  } as unknown as Messenger;
  const host: SessionDeps = {
    settings: () => config,
    writer: {
      submit: (job: BatchJob) => jobs.push(job),
      afterSource: (_source: string, then: () => void) => then(),
      prepare() {},
    } as unknown as SessionDeps['writer'],
    marks: {
      mark: () => 0,
      knows: () => false,
      touch() {},
      setMark() {},
    } as unknown as SessionDeps['marks'],
    counters: { sessions: 0, batches: 0 } as CollectorCounters,
    live: new Map(),
    paused: () => false,
    clock: collectorClock(clock),
    log: { info() {} },
  };
  const session = new Session(messenger, host, new DataSlots(10));
  const ctx: CollectorContext = {
    peer: { transport: 'tcp', remote: '127.0.0.1:1', local: true, secure: false },
    session,
    reply: (msg) => void messenger.send(msg),
  };
  session.register(message('REGISTER', { version: 1, source: 's', service: 'svc', host: 'h', next: 1 }), ctx);
  const body = bodyBytes > 0 ? Buffer.alloc(bodyBytes, 0x61) : undefined;
  for (let seq = 1; seq <= 3; seq++)
    session.events(message('EVENTS', { seq, count: 1, bytes: bodyBytes }, body), ctx);
  const acks = () => sent.filter((m) => m.command === 'ACK').map((m) => Number(m.params.seq));
  return {
    clock,
    jobs,
    session,
    acks,
    setAckDelay: (ms: number) => {
      config = { ...config, ackDelay: ms };
    },
  };
}

describe('Session ACKs', () => {
  it('holds an ACK while more batches are in flight, for ack_delay at most', async () => {
    const { clock, jobs, acks } = setup(50);
    expect(jobs).toHaveLength(3);
    jobs[0]!.done(1);
    jobs[1]!.done(2);
    await turn();
    expect(acks()).toEqual([]);
    clock.advance(49);
    await turn();
    expect(acks()).toEqual([]);
    clock.advance(1);
    await turn();
    expect(acks()).toEqual([2]);
    // The last one in flight is written: nothing more to wait for, so it goes at once.
    jobs[2]!.done(3);
    await turn();
    expect(acks()).toEqual([2, 3]);
    expect(clock.pending).toBe(0);
  });

  it('sends one ACK for batches written together, without waiting, once none is left', async () => {
    const { clock, jobs, acks } = setup(600_000);
    jobs[0]!.done(1);
    jobs[1]!.done(2);
    jobs[2]!.done(3);
    await turn();
    expect(acks()).toEqual([3]);
    expect(clock.pending).toBe(0);
  });

  it('acknowledges every commit with ack_delay = 0, read live', async () => {
    const { jobs, acks, setAckDelay } = setup(600_000);
    setAckDelay(0);
    jobs[0]!.done(1);
    await turn();
    jobs[1]!.done(2);
    await turn();
    expect(acks()).toEqual([1, 2]);
  });

  it('lets a held ACK go once it covers ACK_AT_BYTES of bodies, with more still in flight', async () => {
    // Three batches of 600 KiB: the first alone is held; with the second it covers 1.2 MiB.
    const { clock, jobs, acks } = setup(600_000, 600 * 1024);
    jobs[0]!.done(1);
    await turn();
    expect(acks()).toEqual([]);
    jobs[1]!.done(2);
    await turn();
    expect(acks()).toEqual([2]);
    expect(clock.pending).toBe(0);
    // Counted afresh after each ACK: the third is the last in flight and goes at once anyway.
    jobs[2]!.done(3);
    await turn();
    expect(acks()).toEqual([2, 3]);
  });

  it('lets a held ACK go at once when the session drains (STOP)', async () => {
    const { clock, jobs, session, acks } = setup(600_000);
    jobs[0]!.done(1);
    await turn();
    expect(acks()).toEqual([]);
    session.drain();
    await turn();
    expect(acks()).toEqual([1]);
    expect(clock.pending).toBe(0);
  });
});
