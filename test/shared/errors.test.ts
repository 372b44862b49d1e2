import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  type ErrorCode,
  LogwireError,
  type OwedReply,
  ProtocolError,
} from '../../shared/errors.js';

/** Every code, one table: documented, and carried as given by both error classes. */

const DOC = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

/** The codes docs/errors.md gives a section to (`### \`LW_ERR_…\``). */
const DOCUMENTED = [...DOC.matchAll(/^### `(LW_ERR_[A-Z_]+)`$/gm)].map((m) => m[1]);

describe('errors', () => {
  it('documents no code that does not exist, and none twice', () => {
    expect(DOCUMENTED.filter((code) => !(code! in ERROR_CODES))).toEqual([]);
    expect(new Set(DOCUMENTED).size).toBe(DOCUMENTED.length);
  });

  describe.each(CODES.map((code) => [code] as const))('%s', (code) => {
    it('has a meaning and a section in docs/errors.md with what to do', () => {
      expect(ERROR_CODES[code].length).toBeGreaterThan(0);
      expect(DOCUMENTED, `docs/errors.md has no "### \`${code}\`" section`).toContain(code);
      const start = DOC.indexOf(`### \`${code}\``);
      const end = DOC.indexOf('\n#', start + 1);
      const section = DOC.slice(start, end === -1 ? undefined : end);
      expect(section).toContain('**Meaning**');
      expect(section).toContain('**Raised by**');
      expect(section).toContain('**What to do**');
    });

    it('is carried by LogwireError with its message and cause', () => {
      const cause = new Error('underneath');
      const err = new LogwireError(code, `something about ${code}`, { cause });
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe(code);
      expect(err.name).toBe('LogwireError');
      expect(err.message).toBe(`something about ${code}`);
      expect(err.cause).toBe(cause);
      expect(new LogwireError(code, 'no cause').cause).toBeUndefined();
    });

    it('is carried by ProtocolError with fatal and the owed reply', () => {
      const reply: OwedReply = { command: 'INVALID', params: { command: 'EVENTS', reason: 'bad_seq' } };
      const cause = { not: 'an Error' };
      const fatal = new ProtocolError(code, 'fatal one', { fatal: true, reply, cause });
      expect(fatal).toBeInstanceOf(LogwireError);
      expect(fatal.code).toBe(code);
      expect(fatal.name).toBe('ProtocolError');
      expect(fatal.message).toBe('fatal one');
      expect(fatal.fatal).toBe(true);
      expect(fatal.reply).toBe(reply);
      expect(fatal.cause).toBe(cause);
      const quiet = new ProtocolError(code, 'not fatal', { fatal: false });
      expect(quiet.fatal).toBe(false);
      expect(quiet.reply).toBeUndefined();
      expect(quiet.cause).toBeUndefined();
    });
  });
});
