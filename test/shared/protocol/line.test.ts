import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../shared/errors.js';
import { formatLine, parseLine } from '../../../shared/protocol/line.js';
import { message } from '../../../shared/protocol/message.js';
import { messageArb, nameArb, valueArb } from '../../helpers/arbitraries.js';

function reasonOf(text: string): string | undefined {
  try {
    parseLine(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return (err as ProtocolError).reply?.params.reason;
  }
  return undefined;
}

describe('line', () => {
  describe('#parseLine', () => {
    it('reads origin, destination, command and parameters', () => {
      const msg = parseLine('<srv:appender collector/EVENTS seq=1;count=2;note="a;b"');
      expect(msg.origin).toEqual({ server: 'srv', service: 'appender' });
      expect(msg.dest).toEqual({ service: 'collector' });
      expect(msg.command).toBe('EVENTS');
      expect({ ...msg.params }).toEqual({ seq: '1', count: '2', note: 'a;b' });
    });

    it('reads a destination with a server', () => {
      expect(parseLine('web1:logwire/LOG').dest).toEqual({ server: 'web1', service: 'logwire' });
    });

    it('lets the last of a repeated parameter win and allows a trailing semicolon', () => {
      expect({ ...parseLine('ACK seq=1;seq=2;').params }).toEqual({ seq: '2' });
    });

    it('parses a quoted value that ends in a backslash (eventdispatcher cannot)', () => {
      expect(parseLine('OK v="a\\\\"').params.v).toBe('a\\');
    });

    it('unescapes \\n, \\r and \\\\ in unquoted values', () => {
      expect(parseLine('OK v=a\\nb\\rc\\\\d').params.v).toBe('a\nb\rc\\d');
    });

    it('keeps trailing spaces and empty values', () => {
      expect({ ...parseLine('OK a=x  ;b=').params }).toEqual({ a: 'x  ', b: '' });
    });

    it('treats __proto__ as an ordinary name', () => {
      const msg = parseLine('OK __proto__=x');
      expect(Object.getOwnPropertyDescriptor(msg.params, '__proto__')?.value).toBe('x');
      expect(Object.getPrototypeOf(msg.params)).toBeNull();
    });

    it.each([
      ['lower', 'bad_command'],
      ['ACK,seq=1', 'bad_command'],
      ['ACK seq', 'bad_param'],
      ['ACK 1seq=2', 'bad_param_name'],
      ['ACK a=1;;b=2', 'bad_param_name'],
      ['ACK v="open', 'bad_quote'],
      ['ACK v="x"y', 'bad_quote'],
      ['ACK v=a\\tb', 'bad_escape'],
      ['ACK v=a\\', 'bad_escape'],
      ['ACK v=a\\"', 'bad_escape'],
      ['ACK v="a\\"', 'bad_quote'],
    ])('refuses %j with reason %s', (line, reason) => {
      expect(reasonOf(line)).toBe(reason);
    });
  });

  describe('#formatLine', () => {
    it('quotes exactly the values with ; or a leading quote', () => {
      expect(formatLine(message('OK', { a: 'x;y', b: '"q', c: 'mid"dle', d: 'plain' }))).toBe(
        'OK a="x;y";b="\\"q";c=mid"dle;d=plain\n',
      );
    });

    it('sets bytes from the body and refuses bytes without one', () => {
      expect(formatLine(message('EVENTS', { seq: 1 }, Buffer.from('{}\n')))).toBe('EVENTS seq=1;bytes=3\n');
      expect(() => formatLine(message('EVENTS', { bytes: 3 }))).toThrow(/reserved for framing/);
    });

    it('refuses names that would not parse back', () => {
      expect(() => formatLine(message('ok'))).toThrow(/UPPER_CASE/);
      expect(() => formatLine(message('OK', { 'a-b': '1' }))).toThrow(/parameter name/);
    });
  });

  describe('format → parse', () => {
    it('is the identity for arbitrary values', () => {
      fc.assert(
        fc.property(nameArb, valueArb, (name, value) => {
          const line = formatLine(message('OK', { [name]: value }));
          expect(line.indexOf('\n')).toBe(line.length - 1);
          expect(parseLine(line.slice(0, -1)).params[name]).toBe(value);
        }),
        { numRuns: 2000 },
      );
    });

    it('is the identity for whole messages (without body)', () => {
      fc.assert(
        fc.property(messageArb, (msg) => {
          const bodiless = { ...msg, body: undefined };
          const back = parseLine(formatLine(bodiless).slice(0, -1));
          expect({ ...back.params }).toEqual({ ...msg.params });
          expect(back.command).toBe(msg.command);
          expect(back.origin).toEqual(msg.origin);
          expect(back.dest).toEqual(msg.dest);
        }),
      );
    });
  });
});
