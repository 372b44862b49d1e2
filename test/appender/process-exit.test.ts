import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ExitHooks } from '../../appender/process-exit.js';

describe('ExitHooks', () => {
  it('adds one exit listener for any number of hooks, and removes it with the last', () => {
    const emitter = new EventEmitter();
    const hooks = new ExitHooks(emitter);
    const unhooks = Array.from({ length: 20 }, () => hooks.add(() => {}));
    expect(emitter.listenerCount('exit')).toBe(1);
    for (const unhook of unhooks) unhook();
    expect(emitter.listenerCount('exit')).toBe(0);
  });

  it('runs every hook still registered at exit, once, in order', () => {
    const emitter = new EventEmitter();
    const hooks = new ExitHooks(emitter);
    const ran: string[] = [];
    hooks.add(() => ran.push('a'));
    const unhookB = hooks.add(() => ran.push('b'));
    hooks.add(() => ran.push('c'));
    unhookB();
    unhookB(); // a second call is harmless
    emitter.emit('exit', 0);
    emitter.emit('exit', 0);
    expect(ran).toEqual(['a', 'c']);
  });
});
