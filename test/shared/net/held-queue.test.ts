import { describe, expect, it } from 'vitest';
import { LogwireError } from '../../../shared/errors.js';
import { HeldQueue, wireBytes } from '../../../shared/net/held-queue.js';
import { encodeMessageToBuffer } from '../../../shared/protocol/encode.js';
import { message } from '../../../shared/protocol/message.js';

const held = (n: number, bytes = 10) => ({ msg: message('EVENTS', { n }), bytes });

describe('wireBytes', () => {
  it('is the length of the encoded message, line and body', () => {
    for (const msg of [
      message('ALIVE', { serial: 1 }),
      message('EVENTS', { seq: 5 }, Buffer.from('a\nb\n')),
    ]) {
      expect(wireBytes(msg)).toBe(encodeMessageToBuffer(msg).length);
    }
  });

  it('throws for a message that cannot be formatted', () => {
    expect(() => wireBytes(message('lower'))).toThrow(LogwireError);
  });
});

describe('HeldQueue', () => {
  describe('#offer', () => {
    it('keeps order and counts bytes', () => {
      const queue = new HeldQueue(100);
      for (let n = 0; n < 5; n++) expect(queue.offer(held(n))).toBe(true);
      expect(queue.bytes).toBe(50);
      expect(queue.length).toBe(5);
      const out: string[] = [];
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) out.push(item.msg.params.n!);
      expect(out).toEqual(['0', '1', '2', '3', '4']);
      expect(queue.bytes).toBe(0);
    });

    it('refuses what would pass the bound, and keeps nothing of it', () => {
      const queue = new HeldQueue(25);
      expect(queue.offer(held(0))).toBe(true);
      expect(queue.offer(held(1))).toBe(true);
      expect(queue.offer(held(2))).toBe(false);
      expect(queue.offer(held(3, 5))).toBe(true);
      expect(queue.bytes).toBe(25);
      expect(queue.length).toBe(3);
    });

    it('takes one oversized message into an empty queue only', () => {
      const queue = new HeldQueue(10);
      expect(queue.offer(held(0, 50))).toBe(true);
      expect(queue.offer(held(1, 1))).toBe(false);
      queue.shift();
      expect(queue.offer(held(2, 1))).toBe(true);
    });
  });

  describe('#shift', () => {
    it('stays in order across compaction of a long queue', () => {
      const queue = new HeldQueue(1_000_000);
      for (let n = 0; n < 5000; n++) queue.offer(held(n, 1));
      for (let n = 0; n < 3000; n++) expect(queue.shift()?.msg.params.n).toBe(String(n));
      for (let n = 5000; n < 6000; n++) queue.offer(held(n, 1));
      expect(queue.peek()?.msg.params.n).toBe('3000');
      expect(queue.length).toBe(3000);
      expect(queue.bytes).toBe(3000);
      queue.clear();
      expect(queue.length).toBe(0);
      expect(queue.shift()).toBeUndefined();
    });
  });
});
