import { describe, expect, it, vi } from 'vitest';
import { Coverage } from '../../../shared/dispatcher/coverage.js';
import {
  type DispatchContext,
  Dispatcher,
  type DispatcherOptions,
  type PeerInfo,
  type TraceEntry,
} from '../../../shared/dispatcher/dispatcher.js';
import { ProtocolError } from '../../../shared/errors.js';
import { DEFINITIONS } from '../../../shared/protocol/definitions.js';
import { type Message, message, REPLY_COMMANDS } from '../../../shared/protocol/message.js';
import { thrown } from '../../helpers/thrown.js';

const PEER: PeerInfo = { transport: 'tcp', remote: '127.0.0.1:5000', local: true, secure: false };

interface TestContext extends DispatchContext {
  readonly sent: Message[];
}

function context(): TestContext {
  const sent: Message[] = [];
  return { sent, peer: PEER, reply: (msg) => void sent.push(msg) };
}

/** What a context received, as `COMMAND a=1;b=2` strings for readable assertions. */
function lines(ctx: TestContext): string[] {
  return ctx.sent.map((m) =>
    `${m.command} ${Object.entries(m.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(';')}`.trim(),
  );
}

function make(options: DispatcherOptions<TestContext> = {}): Dispatcher<TestContext> {
  return new Dispatcher<TestContext>({ coverage: null, warn: () => {}, ...options });
}

describe('Dispatcher', () => {
  describe('#dispatch', () => {
    it('calls the handler of an exact command', () => {
      const d = make();
      const seen: string[] = [];
      d.on('STOP', (msg) => void seen.push(msg.command));
      expect(d.dispatch(message('STOP'), context())).toBe('handled');
      expect(d.dispatch(message('STOPX'), context())).toBe('unmatched');
      expect(seen).toEqual(['STOP']);
    });

    it('calls the handler of a regex', () => {
      const d = make();
      const seen: string[] = [];
      d.onMatch(/^LOG(_ROTATE)?$/, (msg) => void seen.push(msg.command));
      d.dispatch(message('LOG'), context());
      d.dispatch(message('LOG_ROTATE'), context());
      d.dispatch(message('LOGS'), context());
      expect(seen).toEqual(['LOG', 'LOG_ROTATE']);
    });

    it('tests a /g regex the same way every time (no lastIndex state)', () => {
      const d = make();
      let n = 0;
      d.onMatch(/LOG/g, () => void n++);
      for (let i = 0; i < 4; i++) d.dispatch(message('LOG'), context());
      expect(n).toBe(4);
    });

    it('calls the catch-all for anything else', () => {
      const d = make();
      const seen: string[] = [];
      d.on('STOP', () => void seen.push('stop'));
      d.onAny((msg) => void seen.push(`any ${msg.command}`));
      d.dispatch(message('STOP'), context());
      d.dispatch(message('FOO'), context());
      expect(seen).toEqual(['stop', 'any FOO']);
    });

    it('runs higher priorities first, then the order added', () => {
      const d = make();
      const seen: string[] = [];
      d.on('X', () => void seen.push('exact 0'));
      d.onMatch(/^X$/, () => void seen.push('regex 10'), { priority: 10 });
      d.dispatch(message('X'), context());
      d.onAny(() => void seen.push('any 20'), { priority: 20 });
      d.dispatch(message('X'), context());
      expect(seen).toEqual(['regex 10', 'any 20']);
    });

    it('orders equal priorities by insertion', () => {
      const d = make();
      const seen: string[] = [];
      d.onMatch(/^A/, () => void seen.push('first'), { callback: true });
      d.onMatch(/^AB/, () => void seen.push('second'), { callback: true });
      d.onAny(() => void seen.push('any'));
      d.dispatch(message('ABC'), context());
      expect(seen).toEqual(['first', 'second', 'any']);
    });

    it('lets a callback match observe and go on; the first full match stops', () => {
      const d = make();
      const seen: string[] = [];
      d.onAny(() => void seen.push('observer'), { callback: true, priority: 100 });
      d.on('EVENTS', () => void seen.push('events'));
      d.onMatch(/^EVENTS$/, () => void seen.push('never'), { priority: -1 });
      d.onAny(() => void seen.push('fallback'), { priority: -2 });
      expect(d.dispatch(message('EVENTS'), context())).toBe('handled');
      expect(seen).toEqual(['observer', 'events']);
    });

    it('says unmatched when only observers ran', () => {
      const d = make();
      let observed = 0;
      d.on('X', () => void observed++, { callback: true });
      d.onAny(() => void observed++, { callback: true });
      expect(d.dispatch(message('X'), context())).toBe('unmatched');
      expect(d.dispatch(message('Y'), context())).toBe('unmatched');
      expect(observed).toBe(3);
    });

    it('gives a handler the context', () => {
      const d = make();
      d.on('PING', (msg, ctx) => ctx.reply(message('PONG', { n: msg.params.n })));
      const ctx = context();
      d.dispatch(message('PING', { n: 3 }), ctx);
      expect(lines(ctx)).toEqual(['PONG n=3']);
    });
  });

  describe('#on, #onMatch, #onAny', () => {
    it('throws LW_ERR_DUPLICATE_MATCH for an exact command added twice', () => {
      const d = make();
      d.on('STOP', () => {});
      const error = thrown(() => d.on('STOP', () => {}, { priority: 5 }));
      expect(error.code).toBe('LW_ERR_DUPLICATE_MATCH');
      expect(error.message).toContain('STOP');
    });

    it('throws LW_ERR_DUPLICATE_MATCH for a second catch-all', () => {
      const d = make();
      d.onAny(() => {});
      const error = thrown(() => d.onAny(() => {}));
      expect(error.code).toBe('LW_ERR_DUPLICATE_MATCH');
      expect(error.message).toContain('catch-all');
    });

    it('throws LW_ERR_DUPLICATE_MATCH for the same regex twice', () => {
      const d = make();
      d.onMatch(/^A$/, () => {});
      expect(thrown(() => d.onMatch(/^A$/, () => {})).code).toBe('LW_ERR_DUPLICATE_MATCH');
      // Other flags make another regex: it is added, and matches what the first does not.
      d.onMatch(/^A$/i, () => {});
      expect(d.dispatch(message('A'), context())).toBe('handled');
    });

    it('lets callback matches share a command or stand beside a catch-all', () => {
      const d = make();
      const seen: string[] = [];
      // Each observer is added after the full match it stands beside; its higher priority lets
      // it run before that match stops the run.
      d.on('STOP', () => void seen.push('stop'));
      d.on('STOP', () => void seen.push('stop observer'), { callback: true, priority: 1 });
      d.onAny(() => void seen.push('any'));
      d.onAny(() => void seen.push('any observer'), { callback: true, priority: 1 });
      expect(d.dispatch(message('STOP'), context())).toBe('handled');
      expect(seen).toEqual(['stop observer', 'any observer', 'stop']);
      seen.length = 0;
      expect(d.dispatch(message('FOO'), context())).toBe('handled');
      expect(seen).toEqual(['any observer', 'any']);
    });

    it('warns when a regex overlaps an exact command already added', () => {
      const warn = vi.fn();
      const d = make({ warn });
      d.on('LOG', () => {});
      d.onMatch(/^LOG/, () => {});
      expect(warn).toHaveBeenCalledOnce();
      expect(warn.mock.calls[0]?.[0]).toMatch(/\/\^LOG\/ also matches command LOG/);
    });

    it('warns when an exact command is added that a regex already matches', () => {
      const warn = vi.fn();
      const d = make({ warn });
      d.onMatch(/^LOG/, () => {});
      d.on('LOG_ROTATE', () => {});
      expect(warn).toHaveBeenCalledOnce();
      expect(warn.mock.calls[0]?.[0]).toMatch(/command LOG_ROTATE is also matched by \/\^LOG\//);
    });

    it('does not warn for regexes that do not overlap, nor for observers', () => {
      const warn = vi.fn();
      const d = make({ warn });
      d.on('STOP', () => {});
      d.onMatch(/^LOG/, () => {});
      d.onMatch(/^ST/, () => {}, { callback: true });
      d.on('LOG', () => {}, { callback: true });
      expect(warn).not.toHaveBeenCalled();
    });

    it('warns through process.emitWarning by default', () => {
      const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      try {
        const d = new Dispatcher({ coverage: null });
        d.on('LOG', () => {});
        d.onMatch(/LOG/, () => {});
        expect(spy).toHaveBeenCalledOnce();
      } finally {
        spy.mockRestore();
      }
    });

    it('refuses a malformed command, handler, priority or option', () => {
      const d = make();
      expect(thrown(() => d.on('stop', () => {})).code).toBe('LW_ERR_BAD_OPTION');
      expect(thrown(() => d.on('STOP', 'nope' as unknown as () => void)).code).toBe('LW_ERR_BAD_OPTION');
      expect(thrown(() => d.on('STOP', () => {}, { priority: Number.NaN })).code).toBe('LW_ERR_BAD_OPTION');
      expect(thrown(() => d.onMatch('x' as unknown as RegExp, () => {})).code).toBe('LW_ERR_BAD_OPTION');
      expect(thrown(() => new Dispatcher({ trace: 1 as unknown as () => void })).code).toBe(
        'LW_ERR_BAD_OPTION',
      );
    });
  });

  describe('checks against definitions', () => {
    it('answers INVALID command=X;reason=… for a failed check and does not call the handler', () => {
      const onInvalid = vi.fn();
      const d = make({ definitions: DEFINITIONS, onInvalid });
      const handler = vi.fn();
      d.on('EVENTS', handler);
      const ctx = context();
      expect(d.dispatch(message('EVENTS', { seq: 'abc', count: 1, bytes: 0 }), ctx)).toBe('invalid');
      expect(lines(ctx)).toEqual(['INVALID command=EVENTS;reason=bad_seq']);
      expect(handler).not.toHaveBeenCalled();
      expect(onInvalid).toHaveBeenCalledOnce();
      const [error, msg, given] = onInvalid.mock.calls[0]!;
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe('LW_ERR_BAD_PARAM');
      expect((msg as Message).command).toBe('EVENTS');
      expect(given).toBe(ctx);
    });

    it('answers a missing parameter with missing_<p>', () => {
      const d = make({ definitions: DEFINITIONS });
      const ctx = context();
      d.dispatch(message('REGISTER', { version: 1, source: 'a', service: 'b', host: 'c' }), ctx);
      expect(lines(ctx)).toEqual(['INVALID command=REGISTER;reason=missing_next']);
    });

    it('refuses an undefined parameter', () => {
      const d = make({ definitions: DEFINITIONS });
      const handler = vi.fn();
      d.on('STOP', handler);
      const ctx = context();
      expect(d.dispatch(message('STOP', { foo: 'bar' }), ctx)).toBe('invalid');
      expect(lines(ctx)).toEqual(['INVALID command=STOP;reason=undefined_param_foo']);
      expect(handler).not.toHaveBeenCalled();
    });

    it('accepts the global secret_code', () => {
      const d = make({ definitions: DEFINITIONS });
      const handler = vi.fn();
      d.on('STOP', handler);
      const ctx = context();
      expect(d.dispatch(message('STOP', { secret_code: 'xyz' }), ctx)).toBe('handled');
      expect(handler).toHaveBeenCalledOnce();
      expect(ctx.sent).toEqual([]);
    });

    it('answers UNKNOWN for a command without a definition', () => {
      const d = make({ definitions: DEFINITIONS });
      const ctx = context();
      expect(d.dispatch(message('FROB'), ctx)).toBe('invalid');
      expect(lines(ctx)).toEqual(['UNKNOWN command=FROB']);
    });

    it('never answers a reply, even one that fails its check', () => {
      const onInvalid = vi.fn();
      const d = make({ definitions: DEFINITIONS, onInvalid });
      const ctx = context();
      for (const command of REPLY_COMMANDS) {
        expect(d.dispatch(message(command, { junk: 'x' }), ctx), command).toBe('invalid');
      }
      expect(ctx.sent).toEqual([]);
      expect(onInvalid).toHaveBeenCalledTimes(REPLY_COMMANDS.size);
    });
  });

  describe('handler errors', () => {
    it('reports a sync throw through onError and goes on', () => {
      const onError = vi.fn();
      const d = make({ onError });
      const boom = new Error('boom');
      d.onAny(
        () => {
          throw boom;
        },
        { callback: true },
      );
      const handler = vi.fn();
      d.on('X', handler);
      const ctx = context();
      expect(d.dispatch(message('X'), ctx)).toBe('handled');
      expect(handler).toHaveBeenCalledOnce();
      expect(onError).toHaveBeenCalledWith(boom, expect.objectContaining({ command: 'X' }), ctx);
    });

    it('reports an async rejection through onError, never as an unhandled rejection', async () => {
      const unhandled = vi.fn();
      process.on('unhandledRejection', unhandled);
      try {
        const onError = vi.fn();
        const d = make({ onError });
        d.on('X', async () => {
          await Promise.resolve();
          throw new Error('later');
        });
        expect(d.dispatch(message('X'), context())).toBe('handled');
        await vi.waitFor(() => expect(onError).toHaveBeenCalledOnce());
        expect(onError.mock.calls[0]?.[0]).toMatchObject({ message: 'later' });
        // Unhandled rejections are detected after the microtask queue drains.
        await new Promise((resolve) => setImmediate(resolve));
        expect(unhandled).not.toHaveBeenCalled();
      } finally {
        process.off('unhandledRejection', unhandled);
      }
    });

    it('survives an onError that throws', async () => {
      const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      try {
        const d = make({
          onError: () => {
            throw new Error('onError broke');
          },
        });
        d.on('X', () => Promise.reject(new Error('x')));
        d.dispatch(message('X'), context());
        await vi.waitFor(() => expect(spy).toHaveBeenCalledOnce());
        expect(String(spy.mock.calls[0]?.[0])).toContain('onError broke');
      } finally {
        spy.mockRestore();
      }
    });
  });

  describe('trace', () => {
    it('sees every received message, with its body length but never its body or secrets', () => {
      const entries: TraceEntry[] = [];
      const d = make({ definitions: DEFINITIONS, trace: (e) => void entries.push(e) });
      const body = Buffer.from('{"msg":"SECRET-BODY"}\n');
      d.dispatch(message('EVENTS', { seq: 1, count: 1, bytes: body.length }, body), context());
      d.dispatch(message('REGISTER', { version: 1, token: 'tok-123', secret_code: 'sc-456' }), context());
      d.dispatch(message('BOGUS', { token: 'tok-789' }), context());
      expect(entries.map((e) => e.command)).toEqual(['EVENTS', 'REGISTER', 'BOGUS']);
      expect(entries[0]).toMatchObject({ bodyLength: body.length, peer: PEER });
      expect(entries[1]?.params).toEqual({ version: '1', token: '***', secret_code: '***' });
      const all = JSON.stringify(entries);
      for (const secret of ['SECRET-BODY', 'tok-123', 'sc-456', 'tok-789']) expect(all).not.toContain(secret);
      expect(Object.keys(entries[0]!)).not.toContain('body');
    });

    it('reports a trace that throws through onError and still dispatches', () => {
      const onError = vi.fn();
      const handler = vi.fn();
      const d = make({
        onError,
        trace: () => {
          throw new Error('trace');
        },
      });
      d.on('X', handler);
      d.dispatch(message('X'), context());
      expect(onError).toHaveBeenCalledOnce();
      expect(handler).toHaveBeenCalledOnce();
    });
  });

  describe('coverage', () => {
    it('counts received commands and, through noteSent, sent ones', () => {
      const coverage = new Coverage(['ALIVE', 'ABSOLUTELY']);
      const d = new Dispatcher({ coverage });
      d.dispatch(message('ALIVE'), context());
      d.dispatch(message('NOT_FOLLOWED'), context());
      d.noteSent(message('ABSOLUTELY'));
      expect(coverage.counts()).toEqual({
        ALIVE: { sent: 0, received: 1 },
        ABSOLUTELY: { sent: 1, received: 0 },
      });
    });
  });
});
