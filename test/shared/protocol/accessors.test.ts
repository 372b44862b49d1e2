import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogwireError } from '../../../shared/errors.js';
import {
  formatTimestamp,
  getAddress,
  getBoolean,
  getInteger,
  getList,
  getName,
  getOptionalAddress,
  getOptionalBoolean,
  getOptionalInteger,
  getOptionalList,
  getOptionalString,
  getOptionalTimestamp,
  getString,
  getTimestamp,
  parseInteger,
  timestampToMs,
} from '../../../shared/protocol/accessors.js';
import { params } from '../../../shared/protocol/message.js';
import { thrown } from '../../helpers/thrown.js';

describe('accessors', () => {
  describe('#getInteger', () => {
    it('reads plain decimals from 0 to 2^53-1', () => {
      expect(getInteger(params({ n: '0' }), 'n')).toBe(0);
      expect(getInteger(params({ n: '42' }), 'n')).toBe(42);
      expect(getInteger(params({ n: '9007199254740991' }), 'n')).toBe(Number.MAX_SAFE_INTEGER);
    });

    it.each([
      '',
      '-1',
      '+1',
      ' 1',
      '1 ',
      '01',
      '1.0',
      '1e3',
      '0x10',
      '9007199254740992',
      '99999999999999999',
      'NaN',
    ])('refuses %j', (value) => {
      const error = thrown(() => getInteger(params({ seq: value }), 'seq', 'ACK'));
      expect(error.code).toBe('LW_ERR_BAD_PARAM');
      expect(error.message).toContain('ACK: parameter seq must be a plain decimal integer');
    });

    it('names the command, the parameter and the shape when missing', () => {
      const error = thrown(() => getInteger(params({}), 'seq', 'EVENTS'));
      expect(error.code).toBe('LW_ERR_MISSING_PARAM');
      expect(error.message).toMatch(/^EVENTS: parameter seq is missing: give a plain decimal integer/);
      expect(thrown(() => getInteger(params({}), 'seq')).message).toMatch(/^parameter seq is missing/);
    });

    it('does not read members of a plain object prototype', () => {
      expect(getOptionalInteger({}, 'constructor')).toBeUndefined();
      expect(getOptionalInteger({}, '__proto__')).toBeUndefined();
    });

    it('cuts a long bad value in its message', () => {
      const error = thrown(() => getInteger(params({ n: 'x'.repeat(1000) }), 'n'));
      expect(error.message.length).toBeLessThan(200);
    });

    it('round-trips every safe integer (property)', () => {
      fc.assert(
        fc.property(fc.maxSafeNat(), (n) => {
          expect(getInteger(params({ n: String(n) }), 'n')).toBe(n);
        }),
      );
    });

    it('refuses every text that is not a plain decimal (property)', () => {
      fc.assert(
        fc.property(
          fc.string().filter((s) => !/^(0|[1-9][0-9]*)$/.test(s)),
          (s) => parseInteger(s) === undefined,
        ),
      );
    });

    it('refuses decimals above 2^53-1 (property)', () => {
      fc.assert(
        fc.property(
          fc.bigInt({ min: 2n ** 53n, max: 10n ** 30n }),
          (n) => parseInteger(n.toString()) === undefined,
        ),
      );
    });
  });

  describe('#getBoolean', () => {
    it('reads true/false and 1/0', () => {
      expect(getBoolean(params({ b: 'true' }), 'b')).toBe(true);
      expect(getBoolean(params({ b: '1' }), 'b')).toBe(true);
      expect(getBoolean(params({ b: 'false' }), 'b')).toBe(false);
      expect(getBoolean(params({ b: '0' }), 'b')).toBe(false);
      expect(getOptionalBoolean(params({}), 'b')).toBeUndefined();
    });

    it.each(['TRUE', 'yes', '', '2', ' true'])('refuses %j', (value) => {
      expect(thrown(() => getBoolean(params({ b: value }), 'b', 'X')).code).toBe('LW_ERR_BAD_PARAM');
    });
  });

  describe('#getTimestamp', () => {
    it('reads sec and a decimal fraction', () => {
      expect(getTimestamp(params({ t: '12' }), 't')).toEqual({ sec: 12, nsec: 0 });
      expect(getTimestamp(params({ t: '12.5' }), 't')).toEqual({ sec: 12, nsec: 500_000_000 });
      expect(getTimestamp(params({ t: '12.000000001' }), 't')).toEqual({ sec: 12, nsec: 1 });
      expect(getOptionalTimestamp(params({}), 't')).toBeUndefined();
    });

    it.each(['', '1.', '.5', '-1', '1.1234567890', '1.5x', '01.5'])('refuses %j', (value) => {
      expect(thrown(() => getTimestamp(params({ t: value }), 't')).code).toBe('LW_ERR_BAD_PARAM');
    });

    it('converts to whole milliseconds', () => {
      expect(timestampToMs({ sec: 1_700_000_000, nsec: 123_999_999 })).toBe(1_700_000_000_123);
    });

    it('round-trips through formatTimestamp (property)', () => {
      fc.assert(
        fc.property(fc.maxSafeNat(), fc.integer({ min: 0, max: 999_999_999 }), (sec, nsec) => {
          expect(getTimestamp(params({ t: formatTimestamp({ sec, nsec }) }), 't')).toEqual({ sec, nsec });
        }),
      );
    });
  });

  describe('#getList', () => {
    it('splits on commas; the empty value is the empty list', () => {
      expect(getList(params({ l: 'A,B,C' }), 'l')).toEqual(['A', 'B', 'C']);
      expect(getList(params({ l: 'one' }), 'l')).toEqual(['one']);
      expect(getList(params({ l: '' }), 'l')).toEqual([]);
      expect(getOptionalList(params({}), 'l')).toBeUndefined();
    });

    it.each([',', 'a,,b', 'a,', ',a'])('refuses the empty item in %j', (value) => {
      expect(thrown(() => getList(params({ l: value }), 'l')).code).toBe('LW_ERR_BAD_PARAM');
    });

    it('round-trips lists of non-empty items without commas (property)', () => {
      const item = fc.string({ minLength: 1 }).filter((s) => !s.includes(','));
      fc.assert(
        fc.property(fc.array(item), (items) => {
          expect(getList(params({ l: items.join(',') }), 'l')).toEqual(items);
        }),
      );
    });
  });

  describe('#getString', () => {
    it('returns any value, empty included', () => {
      expect(getString(params({ s: '' }), 's')).toBe('');
      expect(getString(params({ s: 'a;b"c' }), 's')).toBe('a;b"c');
      expect(getOptionalString(params({}), 's')).toBeUndefined();
      expect(thrown(() => getString(params({}), 's', 'INVALID')).code).toBe('LW_ERR_MISSING_PARAM');
    });
  });

  describe('#getName', () => {
    it('takes [A-Za-z0-9][A-Za-z0-9._-]{0,63}', () => {
      expect(getName(params({ n: 'web-1.example_a' }), 'n')).toBe('web-1.example_a');
      expect(getName(params({ n: 'a'.repeat(64) }), 'n')).toBe('a'.repeat(64));
      for (const bad of ['', '_x', '.x', 'a b', 'a/b', 'a'.repeat(65)]) {
        expect(thrown(() => getName(params({ n: bad }), 'n')).code).toBe('LW_ERR_BAD_PARAM');
      }
    });
  });

  describe('#getAddress', () => {
    it('parses an address', () => {
      expect(getAddress(params({ a: 'tcp/127.0.0.1:4043' }), 'a')).toMatchObject({
        scheme: 'tcp',
        host: '127.0.0.1',
        port: 4043,
      });
      expect(getOptionalAddress(params({}), 'a')).toBeUndefined();
    });

    it('refuses a bad address with LW_ERR_BAD_PARAM caused by LW_ERR_BAD_ADDRESS', () => {
      const error = thrown(() => getAddress(params({ to: 'nope' }), 'to', 'X'));
      expect(error.code).toBe('LW_ERR_BAD_PARAM');
      expect(error.message).toMatch(/^X: parameter to must be an address/);
      expect((error.cause as LogwireError).code).toBe('LW_ERR_BAD_ADDRESS');
      expect(thrown(() => getAddress(params({}), 'to')).code).toBe('LW_ERR_MISSING_PARAM');
    });
  });
});
