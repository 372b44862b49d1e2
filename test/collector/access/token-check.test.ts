import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenCheck } from '../../../collector/access/token-check.js';

describe('TokenCheck', () => {
  it('accepts exactly the configured tokens, whatever their lengths', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 4 }),
        fc.string(),
        (tokens, given) => {
          const check = new TokenCheck(tokens);
          expect(check.required).toBe(true);
          expect(check.accepts(given)).toBe(tokens.includes(given));
          for (const token of tokens) expect(check.accepts(token)).toBe(true);
          expect(check.accepts(undefined)).toBe(false);
        },
      ),
    );
  });

  it('accepts every peer when no token is configured', () => {
    const check = new TokenCheck(undefined);
    expect(check.required).toBe(false);
    expect(check.accepts(undefined)).toBe(true);
    expect(check.accepts('anything')).toBe(true);
  });

  it('refuses an empty token even against a token list holding the empty string hash', () => {
    expect(new TokenCheck(['a', 'b']).accepts('')).toBe(false);
  });
});
