import { describe, expect, it } from 'vitest';
import { type DispatchContext, Dispatcher } from '../../../shared/dispatcher/dispatcher.js';
import { installStandardHandlers } from '../../../shared/dispatcher/standard-handlers.js';
import { DEFINITIONS } from '../../../shared/protocol/definitions.js';
import { type Message, message, REPLY_COMMANDS } from '../../../shared/protocol/message.js';

function context(): DispatchContext & { sent: Message[] } {
  const sent: Message[] = [];
  return {
    sent,
    peer: { transport: 'unix', remote: '/run/x.sock', local: true, secure: false },
    reply: (msg) => void sent.push(msg),
  };
}

function standard(definitions = DEFINITIONS): Dispatcher {
  const d = new Dispatcher({ coverage: null, definitions, warn: () => {} });
  installStandardHandlers(d);
  return d;
}

describe('installStandardHandlers', () => {
  it('answers ALIVE with ABSOLUTELY echoing serial', () => {
    const ctx = context();
    standard().dispatch(message('ALIVE', { serial: 'abc;"\\x' }), ctx);
    expect(ctx.sent).toHaveLength(1);
    expect(ctx.sent[0]?.command).toBe('ABSOLUTELY');
    expect({ ...ctx.sent[0]?.params }).toEqual({ serial: 'abc;"\\x' });
  });

  it('answers ALIVE without serial with a bare ABSOLUTELY', () => {
    const ctx = context();
    standard().dispatch(message('ALIVE'), ctx);
    expect(ctx.sent.map((m) => [m.command, { ...m.params }])).toEqual([['ABSOLUTELY', {}]]);
  });

  it('answers HELP with the exactly matched commands, sorted', () => {
    const d = standard();
    d.on('STOP', () => {});
    d.on('LOG', () => {});
    d.on('EVENTS', () => {}, { callback: true });
    d.onMatch(/^RE/, () => {});
    const ctx = context();
    d.dispatch(message('HELP'), ctx);
    expect(ctx.sent.map((m) => [m.command, { ...m.params }])).toEqual([
      ['COMMANDS', { list: 'ALIVE,HELP,LOG,STOP' }],
    ]);
    d.on('QUIT', () => {});
    d.dispatch(message('HELP'), ctx);
    expect(ctx.sent[1]?.params.list).toBe('ALIVE,HELP,LOG,QUIT,STOP');
  });

  it('answers UNKNOWN command=X for a defined command no handler takes', () => {
    const ctx = context();
    expect(standard().dispatch(message('PAUSE'), ctx)).toBe('handled');
    expect(ctx.sent.map((m) => [m.command, { ...m.params }])).toEqual([['UNKNOWN', { command: 'PAUSE' }]]);
  });

  it('answers UNKNOWN for any unmatched command without definitions', () => {
    const d = new Dispatcher({ coverage: null });
    installStandardHandlers(d);
    const ctx = context();
    d.dispatch(message('FROB', { x: 1 }), ctx);
    expect(ctx.sent.map((m) => [m.command, { ...m.params }])).toEqual([['UNKNOWN', { command: 'FROB' }]]);
  });

  it('never answers a reply, matched or not, valid or not', () => {
    const d = new Dispatcher({ coverage: null });
    installStandardHandlers(d);
    const checked = standard();
    const ctx = context();
    for (const command of REPLY_COMMANDS) {
      d.dispatch(message(command), ctx);
      checked.dispatch(message(command), ctx);
      checked.dispatch(message(command, { nonsense: 1 }), ctx);
    }
    expect(ctx.sent).toEqual([]);
  });

  it('lets handlers added later win over the catch-all', () => {
    const d = standard();
    let stopped = 0;
    d.on('STOP', () => void stopped++);
    const ctx = context();
    d.dispatch(message('STOP'), ctx);
    expect(stopped).toBe(1);
    expect(ctx.sent).toEqual([]);
  });

  it('installs only what is asked', () => {
    const d = new Dispatcher({ coverage: null });
    installStandardHandlers(d, { help: false, unknown: false });
    expect(d.commands()).toEqual(['ALIVE']);
    d.onAny(() => {});
  });
});
