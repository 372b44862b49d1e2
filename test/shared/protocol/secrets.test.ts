import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatLine, parseLine } from '../../../shared/protocol/line.js';
import { type Message, params } from '../../../shared/protocol/message.js';
import { MASK, maskParams, maskSecrets, maskSecretsInBytes } from '../../../shared/protocol/secrets.js';
import { messageArb, plain, valueArb } from '../../helpers/arbitraries.js';

const SECRET_NAMES = ['token', 'secret_code'] as const;
/** A secret long and distinctive enough that finding it in the output can only be a leak. */
const secretArb = fc.stringMatching(/^[A-Za-z0-9]{12,24}$/).map((s) => `S3cr${s}`);

/** A message with one or both secret parameters among its others. */
const withSecretsArb: fc.Arbitrary<Message> = fc
  .record({
    msg: messageArb,
    secrets: fc.dictionary(fc.constantFrom(...SECRET_NAMES), valueArb, { minKeys: 1 }),
  })
  .map(({ msg, secrets }) => {
    const { body: _body, ...rest } = msg;
    return { ...rest, params: params({ ...msg.params, ...secrets }) };
  });

describe('maskSecrets', () => {
  it('masks exactly the secret parameters of a line that parses, and keeps the rest', () => {
    fc.assert(
      fc.property(withSecretsArb, (msg) => {
        const line = formatLine(msg).slice(0, -1);
        const masked = parseLine(maskSecrets(line));
        expect(plain(masked)).toEqual(plain({ ...msg, params: params(maskParams(msg.params)) }));
      }),
    );
  });

  it('leaves no secret in text that is not a message', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.constantFrom(' ', ';', '', '&', ','),
        fc.constantFrom(...SECRET_NAMES),
        secretArb,
        fc.constantFrom('', '"'),
        fc.string(),
        (prefix, separator, name, secret, quote, suffix) => {
          fc.pre(!prefix.includes(secret) && !suffix.includes(secret));
          // `mytoken=` is another name, not a secret one.
          fc.pre(!/[A-Za-z0-9_]$/.test(prefix + separator));
          const text = `${prefix}${separator}${name}=${quote}${secret}${quote};${suffix}`;
          // A line that parses may hold the text inside another value: that is not a parameter.
          let parses = true;
          try {
            parseLine(text);
          } catch {
            parses = false;
          }
          fc.pre(!parses);
          const masked = maskSecrets(text);
          expect(masked).not.toContain(secret);
          expect(masked).toContain(`${name}=${MASK}`);
        },
      ),
    );
  });

  it('returns text without a secret name unchanged, and masking twice changes nothing more', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('t', 'o', 'k', 'e', 'n', '=', ';', '"', ' ', 'a') }),
        (text) => {
          const once = maskSecrets(text);
          if (!/token=|secret_code=/.test(text)) expect(once).toBe(text);
          expect(maskSecrets(once)).toBe(once);
        },
      ),
    );
  });

  it('masks every line of a multi-line text', () => {
    const text = 'REGISTER version=1;source=a;token=hunter2\r\nnot a message token="x;y" secret_code=z\n';
    expect(maskSecrets(text)).toBe(
      'REGISTER version=1;source=a;token=***\r\nnot a message token=*** secret_code=***\n',
    );
  });
});

describe('maskSecretsInBytes', () => {
  it('masks whatever the bytes around are, and keeps every other byte', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        secretArb,
        fc.uint8Array({ maxLength: 40 }),
        (a, secret, b) => {
          const before = Buffer.from(a.filter((byte) => byte !== 0x3b && byte !== 0x0a));
          const after = Buffer.from(b);
          const bytes = Buffer.concat([before, Buffer.from(` token=${secret};`), after]);
          fc.pre(!after.includes(secret) && !before.includes('token=') && !before.includes('secret_code='));
          const masked = maskSecretsInBytes(bytes);
          expect(masked.includes(secret)).toBe(false);
          expect(masked.subarray(0, before.length).equals(before)).toBe(true);
        },
      ),
    );
  });

  it('returns the same buffer when there is nothing to mask', () => {
    const bytes = Buffer.from('{"msg":"hello"}\n');
    expect(maskSecretsInBytes(bytes)).toBe(bytes);
  });
});
