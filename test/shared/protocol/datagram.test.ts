import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../shared/errors.js';
import { decodeDatagram } from '../../../shared/protocol/datagram.js';
import { encodeMessageToBuffer } from '../../../shared/protocol/encode.js';
import { message } from '../../../shared/protocol/message.js';
import { expected, messageArb, plain } from '../../helpers/arbitraries.js';

function reason(packet: string | Buffer, maxBody?: number): string | undefined {
  try {
    decodeDatagram(Buffer.from(packet), maxBody === undefined ? {} : { maxBody });
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return (err as ProtocolError).reply?.params.reason;
  }
  return undefined;
}

describe('decodeDatagram', () => {
  it('round-trips any message in one datagram', () => {
    fc.assert(
      fc.property(messageArb, (msg) => {
        expect(plain(decodeDatagram(encodeMessageToBuffer(msg)))).toEqual(plain(expected(msg)));
      }),
    );
  });

  it('accepts a line without LF when no body follows', () => {
    expect(decodeDatagram(Buffer.from('LOG')).command).toBe('LOG');
  });

  it('drops a datagram whose bytes does not match the octets after the LF', () => {
    expect(reason('EVENTS seq=1;count=1;bytes=5\n{}\n')).toBe('bad_bytes');
    expect(reason('EVENTS seq=1;count=1;bytes=x\n{}\n')).toBe('bad_bytes');
    expect(reason('LOG\nextra')).toBe('trailing_bytes');
    expect(reason(encodeMessageToBuffer(message('EVENTS', { count: 1 }, Buffer.alloc(10))), 9)).toBe(
      'too_large',
    );
  });

  it('takes a numbered batch over maxBody (PROTOCOL.md §3)', () => {
    const packet = encodeMessageToBuffer(message('EVENTS', { seq: 1, count: 1 }, Buffer.alloc(10)));
    expect(decodeDatagram(packet, { maxBody: 9 }).body?.length).toBe(10);
  });
});
