import { describe, expect, it } from 'vitest';
import {
  checkMessage,
  DEFINITIONS,
  defineMessages,
  PROTOCOL_COMMANDS,
  SECRET_PARAMS,
} from '../../../shared/protocol/definitions.js';
import { type Message, message, REPLY_COMMANDS } from '../../../shared/protocol/message.js';

/**
 * Every command of PROTOCOL.md §3–§5 (docs/protocol.md). Tests may not read ../shared, so the
 * list lives here: adding a command to the protocol means adding it here, and this suite then
 * fails until it has a definition.
 */
const PROTOCOL_LIST = [
  'EVENTS',
  'REGISTER',
  'READY',
  'ACK',
  'ALIVE',
  'ABSOLUTELY',
  'PAUSE',
  'UNPAUSE',
  'LOG',
  'LOG_ROTATE',
  'RELOAD',
  'STATUS',
  'HELP',
  'STOP',
  'QUIT',
  'OK',
  'COMMANDS',
  'UNKNOWN',
  'INVALID',
  'UNAUTHORIZED',
];

const body = Buffer.from('{"a":1}\n');
const register = {
  version: 1,
  source: 'app-1',
  service: 'web',
  host: 'host.example',
  next: 1,
};

function reason(msg: Message): string | undefined {
  const error = checkMessage(msg, DEFINITIONS);
  return error?.reply?.params.reason;
}

describe('definitions', () => {
  it('defines every command of the protocol, and only those', () => {
    for (const command of PROTOCOL_LIST) expect(DEFINITIONS.messages.has(command), command).toBe(true);
    expect([...PROTOCOL_COMMANDS].sort()).toEqual([...PROTOCOL_LIST].sort());
    expect(PROTOCOL_COMMANDS.length).toBe(DEFINITIONS.messages.size);
  });

  it('marks exactly the REPLY_COMMANDS as replies', () => {
    const replies = PROTOCOL_COMMANDS.filter((c) => DEFINITIONS.messages.get(c)?.reply === true);
    expect(replies.sort()).toEqual([...REPLY_COMMANDS].sort());
  });

  it('gives REGISTER, READY and EVENTS exactly their parameters', () => {
    const names = (c: string) => Object.keys(DEFINITIONS.messages.get(c)!.params).sort();
    expect(names('REGISTER')).toEqual([
      'first',
      'host',
      'next',
      'pid',
      'service',
      'source',
      'token',
      'version',
    ]);
    expect(names('READY')).toEqual(['last', 'max_body', 'version']);
    expect(names('EVENTS')).toEqual(['bytes', 'count', 'host', 'seq', 'service', 'source', 'token']);
  });

  it('keeps token and secret_code secret', () => {
    expect([...SECRET_PARAMS].sort()).toEqual(['secret_code', 'token']);
  });

  describe('#checkMessage', () => {
    it('passes well-formed messages of every kind', () => {
      const good: Message[] = [
        message('EVENTS', { seq: 1, count: 1, bytes: body.length }, body),
        message('EVENTS', { seq: 5, count: 2, bytes: 3, source: 'a', service: 'b', host: 'c' }),
        message('REGISTER', { ...register, first: 1, pid: 42, token: 's3cret' }),
        message('READY', { version: 1, last: 0, max_body: 16777216 }),
        message('ACK', { seq: 7 }),
        message('ALIVE', { serial: 'x1' }),
        message('ALIVE'),
        message('ABSOLUTELY', { serial: 'x1' }),
        message('STOP', { secret_code: 'abc' }),
        message('OK', { command: 'STATUS', sessions: 3, records_written: 12 }),
        message('COMMANDS', { list: 'ALIVE,HELP' }),
        message('UNKNOWN', { command: 'FOO' }),
        message('INVALID', { reason: 'too_large' }),
        message('UNAUTHORIZED', { command: 'STOP' }),
      ];
      for (const msg of good) expect(checkMessage(msg, DEFINITIONS), msg.command).toBeUndefined();
    });

    it('answers UNKNOWN for a command without a definition', () => {
      const error = checkMessage(message('FOO', { a: 1 }), DEFINITIONS);
      expect(error?.code).toBe('LW_ERR_UNKNOWN_COMMAND');
      expect(error?.fatal).toBe(false);
      expect(error?.reply).toEqual({ command: 'UNKNOWN', params: { command: 'FOO' } });
    });

    it('answers INVALID command=X;reason=missing_<p> for a missing required parameter', () => {
      const error = checkMessage(message('ACK'), DEFINITIONS);
      expect(error?.code).toBe('LW_ERR_MISSING_PARAM');
      expect(error?.reply).toEqual({ command: 'INVALID', params: { command: 'ACK', reason: 'missing_seq' } });
      expect(reason(message('REGISTER', { ...register, next: undefined }))).toBe('missing_next');
    });

    it('answers bad_<p> for a value of the wrong type or below its minimum', () => {
      expect(reason(message('ACK', { seq: 'x' }))).toBe('bad_seq');
      expect(reason(message('ACK', { seq: '-1' }))).toBe('bad_seq');
      expect(reason(message('EVENTS', { seq: 0, count: 1, bytes: 1 }))).toBe('bad_seq');
      expect(reason(message('REGISTER', { ...register, next: 0 }))).toBe('bad_next');
      expect(reason(message('REGISTER', { ...register, source: 'a b' }))).toBe('bad_source');
      expect(reason(message('REGISTER', { ...register, host: 'h'.repeat(65) }))).toBe('bad_host');
      expect(reason(message('UNKNOWN', { command: 'lower' }))).toBe('bad_command');
      expect(reason(message('COMMANDS', { list: 'A,,B' }))).toBe('bad_list');
      expect(checkMessage(message('ACK', { seq: 'x' }), DEFINITIONS)?.code).toBe('LW_ERR_BAD_PARAM');
    });

    it('answers empty_<p> for an empty value', () => {
      expect(reason(message('REGISTER', { ...register, service: '' }))).toBe('empty_service');
      expect(reason(message('INVALID', { reason: '' }))).toBe('empty_reason');
    });

    it('refuses a parameter the command does not define: undefined_param_<p>', () => {
      const error = checkMessage(message('ACK', { seq: 1, foo: 'x' }), DEFINITIONS);
      expect(error?.code).toBe('LW_ERR_UNDEFINED_PARAM');
      expect(error?.reply?.params).toEqual({ command: 'ACK', reason: 'undefined_param_foo' });
      expect(reason(message('STOP', { bytes: 3 }))).toBe('undefined_param_bytes');
    });

    it('cuts a long parameter name in the reason', () => {
      const r = reason(message('STOP', { ['x'.repeat(5000)]: '1' }));
      expect(r).toBe(`undefined_param_${'x'.repeat(64)}`);
    });

    it('accepts the global secret_code on every message', () => {
      for (const command of PROTOCOL_COMMANDS) {
        const msg = message(command, { secret_code: 'abc' });
        expect(reason(msg) ?? '', command).not.toBe('undefined_param_secret_code');
      }
    });

    it('accepts undefined parameters on an open definition (OK), but not bytes', () => {
      expect(reason(message('OK', { command: 'STATUS', uptime_ms: 5 }))).toBeUndefined();
      expect(reason(message('OK', { command: 'STATUS', bytes: 5 }))).toBe('forbidden_bytes');
      expect(reason(message('OK', {}))).toBe('missing_command');
    });

    it('lets a definition forbid a global parameter, and a required global be missing', () => {
      const defs = defineMessages(
        [
          { command: 'PING', params: { secret_code: { type: 'string', presence: 'forbidden' } } },
          { command: 'PONG', params: {} },
        ],
        {
          secret_code: { type: 'string', presence: 'optional' },
          tenant: { type: 'name', presence: 'required' },
        },
      );
      expect(
        checkMessage(message('PING', { secret_code: 'x', tenant: 't' }), defs)?.reply?.params.reason,
      ).toBe('forbidden_secret_code');
      expect(checkMessage(message('PONG'), defs)?.reply?.params.reason).toBe('missing_tenant');
      expect(checkMessage(message('PONG', { tenant: 't' }), defs)).toBeUndefined();
    });

    it('checks timestamp, boolean and address types, and allowEmpty', () => {
      const defs = defineMessages([
        {
          command: 'T',
          params: {
            at: { type: 'timestamp', presence: 'optional' },
            on: { type: 'boolean', presence: 'optional' },
            to: { type: 'address', presence: 'optional' },
            note: { type: 'string', presence: 'optional', allowEmpty: true },
          },
        },
      ]);
      const r = (entries: Record<string, string>) =>
        checkMessage(message('T', entries), defs)?.reply?.params.reason;
      expect(r({ at: '1.5', on: '1', to: 'tcp/127.0.0.1:4043', note: '' })).toBeUndefined();
      expect(r({ at: '1.x' })).toBe('bad_at');
      expect(r({ on: 'yes' })).toBe('bad_on');
      expect(r({ to: 'nowhere' })).toBe('bad_to');
    });

    it('reports the first problem: parameters as received, then missing ones', () => {
      expect(reason(message('EVENTS', { foo: 1, seq: 'x' }))).toBe('undefined_param_foo');
      expect(reason(message('EVENTS', { seq: 'x', foo: 1 }))).toBe('bad_seq');
      expect(reason(message('EVENTS', { seq: 1 }))).toBe('missing_count');
    });
  });

  describe('#defineMessages', () => {
    it('refuses a command defined twice or a malformed name', () => {
      expect(() =>
        defineMessages([
          { command: 'A', params: {} },
          { command: 'A', params: {} },
        ]),
      ).toThrow(/twice/);
      expect(() => defineMessages([{ command: 'a', params: {} }])).toThrow(/UPPER_CASE/);
      expect(() =>
        defineMessages([{ command: 'A', params: { 'b-c': { type: 'string', presence: 'optional' } } }]),
      ).toThrow(/bad parameter/);
    });
  });
});
