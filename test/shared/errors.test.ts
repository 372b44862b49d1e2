import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode, errorCode, LogwireError, ProtocolError } from '../../shared/errors.js';
import { listen } from '../../shared/net/listener.js';
import { parseAddress } from '../../shared/protocol/address.js';
import { FrameDecoder } from '../../shared/protocol/frame-decoder.js';

/** Every code: documented, and raised; and the errors as the code that raises them makes them. */

const ROOT = new URL('../../', import.meta.url).pathname;
const DOC = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

/** The codes docs/errors.md gives a section to (`### \`LW_ERR_…\``). */
const DOCUMENTED = [...DOC.matchAll(/^### `(LW_ERR_[A-Z_]+)`$/gm)].map((m) => m[1]);

/** The product's source, errors.ts (the catalogue itself) left out. */
function sourceText(): string {
  const texts: string[] = [];
  for (const top of ['shared', 'appender', 'collector']) {
    for (const entry of readdirSync(join(ROOT, top), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const path = join(entry.parentPath, entry.name);
      if (path !== join(ROOT, 'shared/errors.ts')) texts.push(readFileSync(path, 'utf8'));
    }
  }
  return texts.join('\n');
}

/** Decodes `text` as one connection; returns the errors the decoder reported. */
function decodeErrors(text: string): ProtocolError[] {
  const errors: ProtocolError[] = [];
  const decoder = new FrameDecoder({}, { message: () => {}, error: (e) => void errors.push(e) });
  decoder.push(Buffer.from(text));
  return errors;
}

describe('errors', () => {
  it('documents no code that does not exist, and none twice', () => {
    expect(DOCUMENTED.filter((code) => !(code! in ERROR_CODES))).toEqual([]);
    expect(new Set(DOCUMENTED).size).toBe(DOCUMENTED.length);
  });

  it('lists only codes that the source raises or branches on', () => {
    const source = sourceText();
    expect(CODES.filter((code) => !source.includes(`'${code}'`))).toEqual([]);
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
  });

  describe('ProtocolError', () => {
    it('closes without a reply on a first line that is not the protocol', () => {
      const [error] = decodeErrors('GET / HTTP/1.1\r\n');
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toBeInstanceOf(LogwireError);
      expect(error).toMatchObject({ code: 'LW_ERR_BAD_LINE', fatal: true, reply: undefined });
      expect(String(error)).toMatch(/^ProtocolError: .*first line/);
    });

    it('owes INVALID for a later bad line, and the connection goes on', () => {
      const [error] = decodeErrors('ALIVE serial=1\nnot a line\n');
      expect(error).toMatchObject({ code: 'LW_ERR_BAD_LINE', fatal: false });
      expect(error!.reply?.command).toBe('INVALID');
      expect(error!.reply?.params.reason).toEqual(expect.any(String));
    });
  });

  describe('LogwireError', () => {
    it('names itself and keeps the system error as its cause', async () => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      try {
        const port = (taken.address() as { port: number }).port;
        const error = await listen(parseAddress(`tcp/127.0.0.1:${port}`), {}, () => {}).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(LogwireError);
        expect(error).not.toBeInstanceOf(ProtocolError);
        expect((error as LogwireError).code).toBe('LW_ERR_LISTEN');
        expect(String(error)).toMatch(/^LogwireError: listen tcp\/127\.0\.0\.1:\d+: address in use/);
        expect(errorCode((error as LogwireError).cause)).toBe('EADDRINUSE');
      } finally {
        await new Promise((resolve) => taken.close(resolve));
      }
    });
  });

  describe('errorCode', () => {
    it("reads a system error's code, and nothing from what is not an Error with a string code", async () => {
      const missing = await readFile(join(ROOT, 'no-such-file')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(errorCode(missing)).toBe('ENOENT');
      expect(errorCode(new Error('plain'))).toBeUndefined();
      expect(errorCode({ code: 'ENOENT' })).toBeUndefined();
      expect(errorCode(Object.assign(new Error('numbered'), { code: 5 }))).toBeUndefined();
      expect(errorCode('ENOENT')).toBeUndefined();
      expect(errorCode(undefined)).toBeUndefined();
    });
  });
});
