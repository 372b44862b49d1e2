/**
 * The ndjson intake cuts any chunking of a byte stream into batches of whole lines, in order,
 * one per chunk: a view of the chunk, or a copy when the chunk ends a line the one before left open.
 */

import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CollectorConfig, CollectorLog } from '../../../collector/config/config-types.js';
import { createCounters } from '../../../collector/counters.js';
import { acceptNdjson, type NdjsonDeps } from '../../../collector/intake/ndjson-intake.js';
import type { BatchJob } from '../../../collector/writer/write-job.js';
import type { Writer } from '../../../collector/writer/writer.js';
import type { LinkEvents } from '../../../shared/net/link.js';
import { FakeLink } from '../../helpers/fake-link.js';

/** A FakeLink the test feeds raw bytes. */
class RawLink extends FakeLink {
  readonly raw = new EventEmitter();
  override on<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this {
    this.raw.on(event, listener);
    return this;
  }
  override once<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this {
    this.raw.once(event, listener);
    return this;
  }
}

const quiet: CollectorLog = { info() {}, warn() {}, error() {}, trace() {} };

function intake(maxBody = 1024, bodyBuffer?: (bytes: number) => Buffer) {
  const jobs: BatchJob[] = [];
  const counters = createCounters();
  const host = {
    config: () => ({ maxBody }) as unknown as CollectorConfig,
    writer: { submit: (job: BatchJob) => jobs.push(job) } as unknown as Writer,
    stopping: () => false,
    counters,
    log: quiet,
    badInputLog: { warn() {} },
    bodyBuffer,
  } as unknown as NdjsonDeps;
  const link = new RawLink();
  acceptNdjson(link, 'svc', host);
  return { link, jobs, counters };
}

function lfCount(body: Buffer): number {
  let n = 0;
  for (const byte of body) if (byte === 10) n += 1;
  return n;
}

describe('acceptNdjson', () => {
  it('hands over whole lines in order, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z{}"]{0,30}$/), { maxLength: 20 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
        (lines, openEnd, cuts) => {
          const text = lines.join('\n') + (openEnd ? '' : '\n');
          const stream = Buffer.from(text);
          const { link, jobs, counters } = intake();
          let at = 0;
          let withLf = 0;
          for (let i = 0; at < stream.length; i++) {
            const chunk = stream.subarray(at, at + cuts[i % cuts.length]!);
            if (chunk.includes(10)) withLf += 1;
            link.raw.emit('data', chunk);
            at += chunk.length;
          }
          link.raw.emit('close');
          const written = Buffer.concat(jobs.map((job) => job.body!)).toString();
          // A last line without its LF is still written, with one.
          expect(written).toBe(text.length === 0 || text.endsWith('\n') ? text : `${text}\n`);
          for (const job of jobs) {
            expect(job.body!.at(-1)).toBe(10);
            expect(job.count).toBe(lfCount(job.body!));
            expect(job.mode).toBe('ndjson');
          }
          expect(counters.batches).toBe(withLf + (text.length > 0 && !text.endsWith('\n') ? 1 : 0));
        },
      ),
    );
  });

  it('hands over one batch per chunk: a view of it, or the open line and its lines in one pooled buffer', () => {
    const pooled: Buffer[] = [];
    const { link, jobs } = intake(1024, (bytes) => {
      pooled.push(Buffer.alloc(bytes));
      return pooled.at(-1)!;
    });
    const first = Buffer.from('{"a":1}\n{"b');
    link.raw.emit('data', first);
    link.raw.emit('data', Buffer.from('c"}\n{"d":4}\n{"e":5}\n'));
    expect(jobs.map((j) => [j.body!.toString(), j.count])).toEqual([
      ['{"a":1}\n', 1],
      ['{"bc"}\n{"d":4}\n{"e":5}\n', 3],
    ]);
    expect(jobs[0]!.body!.buffer).toBe(first.buffer);
    expect(pooled).toHaveLength(1);
    expect(jobs[1]!.body).toBe(pooled[0]);
  });

  it('marks a batch braced only when every line begins with { and ends with }', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z{}]{0,6}$/), { minLength: 1, maxLength: 8 }), (lines) => {
        const { link, jobs } = intake();
        link.raw.emit('data', Buffer.from(lines.map((l) => `${l}\n`).join('')));
        const braced = lines.every((l) => l.length > 0 && l.startsWith('{') && l.endsWith('}'));
        expect(jobs).toHaveLength(1);
        expect(jobs[0]!.braced).toBe(braced);
      }),
    );
  });

  it('writes every whole line of a chunk around a line over max_body, rejects that one, and closes', () => {
    const { link, jobs } = intake(10);
    link.raw.emit('data', Buffer.from('{"a":1}\n{"b'));
    link.raw.emit('data', Buffer.from('"}\n{"d":4}\n{"a very long line":1}\n{"e":5}\n{"f":6}\n{"g'));
    expect(jobs.map((j) => [j.body?.toString(), j.count])).toEqual([
      ['{"a":1}\n', 1],
      ['{"b"}\n{"d":4}\n', 2],
      [undefined, 1], // no body: the writer rejects it as body_too_large, and counts it
      ['{"e":5}\n{"f":6}\n', 2],
    ]);
    expect(link.closedHow).toBe('destroy');
    // The open line received before the close is handed over as a last record, as on any close.
    link.raw.emit('close');
    expect(jobs.at(-1)!.body!.toString()).toBe('{"g\n');
  });

  it('rejects an open line as soon as it passes max_body, after the lines before it', () => {
    const { link, jobs } = intake(10);
    link.raw.emit('data', Buffer.from('{"a":1}\n{"b":"'));
    link.raw.emit('data', Buffer.from('xxxxxxxxxx'));
    expect(jobs.map((j) => [j.body?.toString(), j.count])).toEqual([
      ['{"a":1}\n', 1],
      [undefined, 1],
    ]);
    expect(link.closedHow).toBe('destroy');
    link.raw.emit('close');
    expect(jobs).toHaveLength(2);
  });

  it('hands over every line up to max_body and one rejection per longer line, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 16 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 5 }),
        (lengths, cuts) => {
          const lines = lengths.map((n, i) => String.fromCharCode(97 + i).repeat(n));
          const stream = Buffer.from(lines.map((l) => `${l}\n`).join(''));
          const { link, jobs } = intake(10);
          for (let at = 0, i = 0; at < stream.length && link.closedHow === undefined; i++) {
            const cut = cuts[i % cuts.length]!;
            link.raw.emit('data', stream.subarray(at, at + cut));
            at += cut;
          }
          link.raw.emit('close');
          const firstLong = lines.findIndex((l) => l.length > 10);
          const handed = jobs.flatMap((j) =>
            j.body === undefined ? ['too_long'] : j.body.toString().split('\n').slice(0, -1),
          );
          const expected = lines.map((l) => (l.length > 10 ? 'too_long' : l));
          if (firstLong === -1) expect(handed).toEqual(expected);
          else {
            // Up to the first long line everything is handed over in order; after it, what the
            // same chunk held, and last the start of a line left open at the close.
            expect(handed.slice(0, firstLong + 1)).toEqual(expected.slice(0, firstLong + 1));
            const last = handed.length - 1;
            expect(handed.slice(0, last)).toEqual(expected.slice(0, last));
            expect(lines[last]!.startsWith(handed[last]!) || handed[last] === expected[last]).toBe(true);
            expect(link.closedHow).toBe('destroy');
          }
        },
      ),
    );
  });
});
