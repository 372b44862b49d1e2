import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProtocolError } from '../../../shared/errors.js';
import { encodeMessage } from '../../../shared/protocol/encode.js';
import { FrameDecoder } from '../../../shared/protocol/frame-decoder.js';
import type { FrameLimits } from '../../../shared/protocol/limits.js';
import { type Message, message } from '../../../shared/protocol/message.js';
import { expected, messageArb, plain } from '../../helpers/arbitraries.js';

interface Collected {
  messages: Message[];
  errors: ProtocolError[];
  discarded: Array<[Message, number]>;
}

function decodeChunks(
  chunks: Buffer[],
  limits: Partial<FrameLimits> = {},
): Collected & { decoder: FrameDecoder } {
  const out: Collected = { messages: [], errors: [], discarded: [] };
  const decoder = new FrameDecoder(limits, {
    message: (m) => out.messages.push(m),
    error: (e) => out.errors.push(e),
    discarded: (m, n) => out.discarded.push([m, n]),
  });
  for (const chunk of chunks) decoder.push(chunk);
  return { ...out, decoder };
}

function wire(messages: Message[]): Buffer {
  return Buffer.concat(messages.flatMap(encodeMessage));
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    parts.push(buf.subarray(from, p));
    from = p;
  }
  parts.push(buf.subarray(from));
  return parts;
}

describe('FrameDecoder', () => {
  describe('#push', () => {
    it('decodes a body split across three chunks', () => {
      const body = Buffer.from('{"a":1}\n{"b":2}\n');
      const bytes = wire([message('EVENTS', { seq: 1, count: 2 }, body), message('ACK', { seq: 2 })]);
      const { messages, errors } = decodeChunks([
        bytes.subarray(0, 20),
        bytes.subarray(20, 30),
        bytes.subarray(30),
      ]);
      expect(errors).toEqual([]);
      expect(messages.map((m) => m.command)).toEqual(['EVENTS', 'ACK']);
      expect(messages[0]!.body!.toString()).toBe(body.toString());
    });

    it('gives a body lying in one chunk as a view of that chunk', () => {
      const chunk = wire([message('EVENTS', { seq: 1, count: 1 }, Buffer.from('{}\n'))]);
      const { messages } = decodeChunks([chunk]);
      expect(messages[0]!.body!.buffer).toBe(chunk.buffer);
    });

    it('copies a body spanning chunks into the buffer bodyBuffer gives, and asks for none otherwise', () => {
      const body = Buffer.from('{"a":1}\n{"b":2}\n');
      const bytes = wire([message('EVENTS', { seq: 1, count: 2 }, body)]);
      const asked: number[] = [];
      const given: Buffer[] = [];
      const messages: Message[] = [];
      const decoder = new FrameDecoder(
        {},
        { message: (m) => messages.push(m), error: (e) => expect.fail(e.message) },
        {
          bodyBuffer: (n) => {
            asked.push(n);
            const out = Buffer.alloc(n + 8).subarray(4, 4 + n);
            given.push(out);
            return out;
          },
        },
      );
      decoder.push(bytes.subarray(0, bytes.length - 5));
      decoder.push(bytes.subarray(bytes.length - 5));
      expect(asked).toEqual([body.length]);
      expect(messages[0]!.body).toBe(given[0]);
      expect(messages[0]!.body!.toString()).toBe(body.toString());
      decoder.push(bytes); // whole in one chunk: a view, nothing asked
      expect(asked).toHaveLength(1);
      expect(messages[1]!.body!.buffer).toBe(bytes.buffer);
    });

    it('decodes byte by byte', () => {
      const msgs = [
        message('EVENTS', { seq: 1, count: 1 }, Buffer.from('{"x":"y"}\n')),
        message('ALIVE', { serial: 7 }),
      ];
      const bytes = wire(msgs);
      const chunks = [...bytes].map((b) => Buffer.from([b]));
      expect(decodeChunks(chunks).messages.map(plain)).toEqual(msgs.map(expected).map(plain));
    });

    it('ignores empty lines and a CR before the LF', () => {
      const { messages, errors } = decodeChunks([Buffer.from('\n\r\nALIVE serial=1\r\n\n')]);
      expect(errors).toEqual([]);
      expect(messages.map((m) => ({ ...m.params }))).toEqual([{ serial: '1' }]);
    });

    it('yields the same messages for every split of the input', () => {
      fc.assert(
        fc.property(
          fc.array(messageArb, { minLength: 1, maxLength: 5 }),
          fc.array(fc.nat(), { maxLength: 6 }),
          (msgs, cuts) => {
            const bytes = wire(msgs);
            const { messages, errors } = decodeChunks(splitAt(bytes, cuts));
            expect(errors).toEqual([]);
            expect(messages.map(plain)).toEqual(msgs.map(expected).map(plain));
          },
        ),
        { numRuns: 500 },
      );
    });

    it('decodes at every split point of a message with a body', () => {
      const msgs = [
        message('EVENTS', { seq: 5, count: 1, note: 'a;b' }, Buffer.from('{"k":"v;\\n"}\n')),
        message('PAUSE'),
      ];
      const bytes = wire(msgs);
      for (let i = 0; i <= bytes.length; i++) {
        const { messages } = decodeChunks([bytes.subarray(0, i), bytes.subarray(i)]);
        expect(messages.map(plain)).toEqual(msgs.map(expected).map(plain));
      }
    });
  });

  describe('limits (PROTOCOL.md §6)', () => {
    it('closes on a line over the limit with INVALID reason=too_large, even before its LF arrives', () => {
      const { errors, decoder } = decodeChunks([Buffer.from(`ALIVE serial=${'9'.repeat(100)}`)], {
        maxLine: 64,
      });
      expect(errors).toHaveLength(1);
      expect(errors[0]!.code).toBe('LW_ERR_LINE_TOO_LONG');
      expect(errors[0]!.fatal).toBe(true);
      expect(errors[0]!.reply).toEqual({ command: 'INVALID', params: { reason: 'too_large' } });
      expect(decoder.stopped).toBe(true);
    });

    it('refuses a line one byte over the limit, with or without a CR', () => {
      const line = `ALIVE serial=${'1'.repeat(52)}`;
      for (const end of ['\n', '\r\n']) {
        const { errors } = decodeChunks([Buffer.from(`${line}${end}`)], { maxLine: 64 });
        expect(errors.map((e) => e.code)).toEqual(['LW_ERR_LINE_TOO_LONG']);
      }
    });

    it('accepts a line of exactly the limit', () => {
      const line = `ALIVE serial=${'1'.repeat(51)}`;
      expect(line.length).toBe(64);
      const { messages, errors } = decodeChunks([Buffer.from(`${line}\r\n`)], { maxLine: 64 });
      expect(errors).toEqual([]);
      expect(messages).toHaveLength(1);
    });

    it('reads and discards a body over the limit, and framing holds', () => {
      const big = Buffer.alloc(1000, 0x61);
      const bytes = wire([message('EVENTS', { count: 1 }, big), message('ALIVE', { serial: 2 })]);
      const { messages, errors, discarded } = decodeChunks(splitAt(bytes, [10, 300, 700]), { maxBody: 999 });
      expect(errors).toEqual([]);
      expect(discarded.map(([m, n]) => [m.command, m.params.count, n])).toEqual([['EVENTS', '1', 1000]]);
      expect(messages.map((m) => m.command)).toEqual(['ALIVE']);
    });

    it('takes a numbered batch over maxBody whole, up to maxNumberedBody (PROTOCOL.md §3)', () => {
      const body = Buffer.alloc(1000, 0x61);
      const bytes = wire([message('EVENTS', { seq: 1, count: 1 }, body), message('ALIVE', { serial: 2 })]);
      const limits = { maxBody: 100, maxNumberedBody: 1000 };
      const { messages, errors, discarded } = decodeChunks(splitAt(bytes, [10, 300, 700]), limits);
      expect(errors).toEqual([]);
      expect(discarded).toEqual([]);
      expect(messages.map((m) => [m.command, m.body?.length])).toEqual([
        ['EVENTS', 1000],
        ['ALIVE', undefined],
      ]);
    });

    it('discards a numbered batch over both limits', () => {
      const bytes = wire([message('EVENTS', { seq: 1, count: 1 }, Buffer.alloc(1001, 0x61))]);
      const { messages, discarded } = decodeChunks([bytes], { maxBody: 100, maxNumberedBody: 1000 });
      expect(messages).toEqual([]);
      expect(discarded.map(([m, n]) => [m.params.seq, n])).toEqual([['1', 1001]]);
    });

    it('takes a numbered batch up to 16 MiB by default, whatever maxBody', () => {
      const body = Buffer.alloc(16 * 1024 * 1024, 0x61);
      const bytes = wire([message('EVENTS', { seq: 1, count: 1 }, body)]);
      const { messages, discarded } = decodeChunks([bytes], { maxBody: 1024 });
      expect(discarded).toEqual([]);
      expect(messages[0]?.body?.length).toBe(body.length);
    });

    it('closes on a bytes value that is not a plain decimal number', () => {
      for (const bad of ['-1', '1e3', '01', ' 5', '0x10', '99999999999999999']) {
        const { errors } = decodeChunks([Buffer.from(`ALIVE serial=1\nEVENTS seq=1;bytes=${bad}\n`)]);
        expect(errors.map((e) => [e.code, e.fatal, e.reply?.params.reason])).toEqual([
          ['LW_ERR_BAD_BYTES', true, 'bad_bytes'],
        ]);
      }
    });

    it('closes at once when the first line does not parse (an HTTP request)', () => {
      const { errors, messages } = decodeChunks([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
      expect(messages).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.fatal).toBe(true);
      expect(errors[0]!.reply).toBeUndefined();
    });

    it('skips a later unparsable line with INVALID, and closes on the tenth in a row', () => {
      const nine = 'bad line\n'.repeat(9);
      const ok = decodeChunks([Buffer.from(`ALIVE serial=1\n${nine}ALIVE serial=2\n${nine}`)]);
      expect(ok.errors).toHaveLength(18);
      expect(ok.errors.every((e) => !e.fatal && e.reply?.command === 'INVALID')).toBe(true);
      expect(ok.messages).toHaveLength(2);
      const closed = decodeChunks([
        Buffer.from(`ALIVE serial=1\n${'bad line\n'.repeat(10)}ALIVE serial=2\n`),
      ]);
      expect(closed.errors.at(-1)!.fatal).toBe(true);
      expect(closed.messages).toHaveLength(1);
      expect(closed.decoder.stopped).toBe(true);
    });
  });
});
