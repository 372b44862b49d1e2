import { describe, expect, it } from 'vitest';
import { type Batch, batch } from '../../../shared/sender/batch.js';
import { Window } from '../../../shared/sender/window.js';

const make = (seq: number, count: number, bytes: number): Batch =>
  batch(seq, count, Buffer.alloc(bytes, 0x61));

function sendAll(window: Window): number[] {
  const sent: number[] = [];
  for (let next = window.next(); next !== undefined; next = window.next()) {
    sent.push(next.seq);
    window.markSent();
  }
  return sent;
}

describe('Window', () => {
  it('lets batches go while the bytes in flight fit', () => {
    const window = new Window(100);
    window.push(make(1, 2, 40));
    window.push(make(3, 2, 40));
    window.push(make(5, 2, 40));
    expect(sendAll(window)).toEqual([1, 3]);
    expect(window.inFlight).toBe(2);
    expect(window.inFlightBytes).toBe(80);
    expect(window.waiting).toBe(1);
  });

  it('sends a batch larger than the whole window alone', () => {
    const window = new Window(10);
    window.push(make(1, 1, 50));
    window.push(make(2, 1, 5));
    expect(sendAll(window)).toEqual([1]);
    window.ack(1);
    expect(sendAll(window)).toEqual([2]);
  });

  describe('#ack', () => {
    it('forgets batches ending at or below the mark and frees their bytes', () => {
      const window = new Window(1000);
      window.push(make(1, 3, 30));
      window.push(make(4, 3, 30));
      sendAll(window);
      expect(window.ack(5)).toBe(3);
      expect(window.first?.seq).toBe(4);
      expect(window.inFlightBytes).toBe(30);
      expect(window.records).toBe(3);
      expect(window.ack(2)).toBe(0);
      expect(window.ack(6)).toBe(3);
      expect(window.length).toBe(0);
      expect(window.end).toBeUndefined();
    });

    it('forgets waiting batches too (READY last above them)', () => {
      const window = new Window(1000);
      window.push(make(1, 1, 10));
      window.push(make(2, 1, 10));
      window.push(make(3, 1, 10));
      window.next();
      window.markSent();
      expect(window.ack(2)).toBe(2);
      expect(window.inFlight).toBe(0);
      expect(window.inFlightBytes).toBe(0);
      expect(sendAll(window)).toEqual([3]);
    });
  });

  describe('#rewind', () => {
    it('makes every unacknowledged batch wait again, whole and in order', () => {
      const window = new Window(1000);
      for (let i = 0; i < 4; i++) window.push(make(1 + i * 10, 10, 10));
      sendAll(window);
      window.ack(10);
      window.rewind();
      expect(window.inFlight).toBe(0);
      expect(window.inFlightBytes).toBe(0);
      expect(sendAll(window)).toEqual([11, 21, 31]);
    });
  });

  it('keeps its cursors right over many batches', () => {
    const window = new Window(64);
    let pushed = 0;
    let acked = 0;
    for (let round = 0; round < 3000; round++) {
      window.push(make(++pushed, 1, 8));
      sendAll(window);
      if (round % 2 === 0) acked = Math.min(pushed, acked + 2);
      window.ack(acked);
      expect(window.records).toBe(pushed - acked);
      expect(window.inFlightBytes).toBeLessThanOrEqual(64);
    }
    expect(window.toArray().map((b) => b.seq)[0]).toBe(acked + 1);
  });
});
