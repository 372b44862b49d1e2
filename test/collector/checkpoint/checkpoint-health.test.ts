/**
 * A state directory that refuses writes for a while: no ACK leaves until the checkpoint that
 * covers it is saved, the collector says `degraded` (log: once, and once when it ends), retries
 * with backoff, and resumes on its own. A stop gives up after one more try.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Checkpoint } from '../../../collector/checkpoint/checkpoint.js';
import { CheckpointHealth, type RetryTimers } from '../../../collector/checkpoint/checkpoint-health.js';
import { JOURNAL_FILE } from '../../../collector/checkpoint/checkpoint-store.js';
import { createCounters } from '../../../collector/counters.js';
import { OutputSet } from '../../../collector/outputs/output-set.js';
import { PathTemplate } from '../../../collector/outputs/path-template.js';
import type { BatchJob } from '../../../collector/writer/write-job.js';
import { fileWriter } from '../../helpers/file-writer.js';
import { immutableUnsupported, setImmutable } from '../../helpers/immutable.js';
import { eventually } from '../../helpers/records.js';

/** Timers the test fires by hand: the delays asked for, in order. */
function manualTimers(): RetryTimers & { delays: number[]; fire(): void; pending(): number } {
  const queue: Array<{ fn: () => void; cleared: boolean }> = [];
  const delays: number[] = [];
  return {
    delays,
    setTimeout(fn, ms) {
      const timer = { fn, cleared: false };
      queue.push(timer);
      delays.push(ms);
      return timer;
    },
    clearTimeout(handle) {
      (handle as { cleared: boolean }).cleared = true;
    },
    fire() {
      const timer = queue.shift();
      if (timer !== undefined && !timer.cleared) timer.fn();
    },
    pending() {
      return queue.filter((t) => !t.cleared).length;
    },
  };
}

function recordingLog() {
  const lines: string[] = [];
  return {
    lines,
    log: {
      warn: (msg: string) => lines.push(`warn ${msg}`),
      info: (msg: string) => lines.push(`info ${msg}`),
    },
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('CheckpointHealth', () => {
  it('retries with doubling waits up to 2 s, saying so once when it starts and once when it ends', async () => {
    const timers = manualTimers();
    const { lines, log } = recordingLog();
    let now = 1_000;
    const health = new CheckpointHealth({ log, timers, now: () => now });
    let failures = 7;
    const saved = health.untilSaved(async () => {
      if (failures-- > 0) throw new Error('EPERM: operation not permitted');
    });
    for (let i = 0; i < 7; i++) {
      await eventually(() => expect(timers.pending()).toBe(1));
      expect(health.state).toBe('degraded');
      expect(health.reason).toBe('EPERM: operation not permitted');
      now += timers.delays.at(-1)!;
      timers.fire();
    }
    await saved;
    expect(timers.delays).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
    expect(health.state).toBe('healthy');
    expect(health.reason).toBeUndefined();
    expect(lines).toEqual([
      'warn checkpoint cannot be saved: acknowledgements wait until it can (retrying): EPERM: operation not permitted',
      'info checkpoint saved again after 7100 ms: acknowledgements resume',
    ]);
  });

  it('gives up after one more try once told to, without waiting out the backoff', async () => {
    const timers = manualTimers();
    const health = new CheckpointHealth({ log: recordingLog().log, timers });
    let attempts = 0;
    const saved = health.untilSaved(async () => {
      attempts++;
      throw new Error('EROFS: read-only file system');
    });
    await eventually(() => expect(timers.pending()).toBe(1));
    health.giveUp();
    await expect(saved).rejects.toThrow('EROFS');
    expect(attempts).toBe(2);
    expect(timers.pending()).toBe(0);
  });
});

describe('Writer with a state directory that refuses writes', () => {
  let dir: string;
  let stateDir: string;
  let checkpoint: Checkpoint;
  let outputs: OutputSet;
  let skip: string | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lw-health-'));
    stateDir = join(dir, 'state');
    skip = await immutableUnsupported(dir);
    checkpoint = await Checkpoint.open(stateDir, {});
    await checkpoint.recover(join(dir, 'out'));
    outputs = await OutputSet.open({
      dir: join(dir, 'out'),
      fileIdleClose: 0,
      onOpen: (file) => checkpoint.noteOpened(file),
    });
  });

  afterEach(async () => {
    await setImmutable([stateDir, join(stateDir, JOURNAL_FILE)], false).catch(() => undefined);
    await outputs.close();
    await checkpoint.close();
    await rm(dir, { recursive: true, force: true });
  });

  function batch(seq: number, count: number, acks: number[], failures: unknown[]): BatchJob {
    let body = '';
    for (let n = seq; n < seq + count; n++) body += `{"n":${n}}\n`;
    return {
      route: { source: 'src', service: 'svc', host: 'h' },
      seq,
      count,
      body: Buffer.from(body),
      mode: 'session',
      done: (mark) => acks.push(mark),
      fail: (error) => failures.push(error),
    };
  }

  it('holds the ACKs while the checkpoint cannot be saved, and resumes on its own', async (ctx) => {
    if (skip !== undefined) ctx.skip(skip);
    const timers = manualTimers();
    const { lines, log } = recordingLog();
    const health = new CheckpointHealth({ log, timers });
    const w = fileWriter(
      {
        template: PathTemplate.parse('{service}.log'),
        format: 'json',
        validate: 'shape',
        durability: 'write',
      },
      { outputs, checkpoint, counters: createCounters(), onError: () => undefined, health },
    );
    const acks: number[] = [];
    const failures: unknown[] = [];
    w.submit(batch(1, 10, acks, failures));
    await w.idle();
    expect(acks).toEqual([10]);

    await setImmutable([stateDir, join(stateDir, JOURNAL_FILE)], true);
    w.submit(batch(11, 10, acks, failures));
    await eventually(() => expect(timers.pending()).toBe(1));
    expect(health.state).toBe('degraded');
    // Several failed tries (a failed append whose cut-back failed too must not break the store).
    for (let i = 0; i < 3; i++) {
      timers.fire();
      await eventually(() => expect(timers.pending()).toBe(1));
    }
    await tick();
    expect(acks).toEqual([10]);

    await setImmutable([stateDir, join(stateDir, JOURNAL_FILE)], false);
    timers.fire();
    await w.idle();
    expect(acks).toEqual([10, 20]);
    expect(failures).toEqual([]);
    expect(health.state).toBe('healthy');
    expect(lines).toHaveLength(2);
    const numbers = (await readFile(join(dir, 'out', 'svc.log'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { n: number }).n);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    // What was saved after the spell is what a restart reads.
    await outputs.close();
    await checkpoint.close();
    checkpoint = await Checkpoint.open(stateDir, {});
    expect(checkpoint.mark('src')).toBe(20);
    expect((await checkpoint.recover(join(dir, 'out'))).truncated).toEqual([]);
    outputs = await OutputSet.open({ dir: join(dir, 'out'), fileIdleClose: 0 });
  });

  it('fails the held tick unacknowledged when told to give up (a stop), and writes nothing more', async (ctx) => {
    if (skip !== undefined) ctx.skip(skip);
    const timers = manualTimers();
    const health = new CheckpointHealth({ log: recordingLog().log, timers });
    const w = fileWriter(
      {
        template: PathTemplate.parse('{service}.log'),
        format: 'json',
        validate: 'shape',
        durability: 'write',
      },
      { outputs, checkpoint, counters: createCounters(), onError: () => undefined, health },
    );
    const acks: number[] = [];
    const failures: unknown[] = [];
    w.submit(batch(1, 10, acks, failures));
    await w.idle();
    await setImmutable([stateDir, join(stateDir, JOURNAL_FILE)], true);
    w.submit(batch(11, 10, acks, failures));
    await eventually(() => expect(timers.pending()).toBe(1));
    w.submit(batch(21, 10, acks, failures));
    w.giveUp();
    await w.idle();
    expect(acks).toEqual([10]);
    expect(failures).toHaveLength(2);
    // Its tail could not be declared, so neither it nor the tick after it wrote a byte.
    const text = await readFile(join(dir, 'out', 'svc.log'), 'utf8');
    expect(text.split('\n').filter(Boolean)).toHaveLength(10);
    await setImmutable([stateDir, join(stateDir, JOURNAL_FILE)], false);
    await outputs.close();
    await checkpoint.close();
    checkpoint = await Checkpoint.open(stateDir, {});
    expect(checkpoint.mark('src')).toBe(10);
    outputs = await OutputSet.open({ dir: join(dir, 'out'), fileIdleClose: 0 });
  });
});
