import { describe, expect, it } from 'vitest';
import { ServiceGate } from '../../../shared/sender/service-gate.js';

describe('ServiceGate', () => {
  it('gives a known name at once, without a promise', () => {
    const gate = new ServiceGate();
    expect(gate.open('billing')).toBe(true);
    expect(gate.wait(new AbortController().signal)).toBe('billing');
  });

  it('resolves every waiter when named, and keeps the first name', async () => {
    const gate = new ServiceGate();
    const a = gate.wait(new AbortController().signal);
    const b = gate.wait(new AbortController().signal);
    expect(gate.open('first')).toBe(true);
    expect(gate.open('second')).toBe(false);
    expect(await a).toBe('first');
    expect(await b).toBe('first');
    expect(gate.name).toBe('first');
  });

  it('rejects a waiter whose handshake is abandoned, and forgets it', async () => {
    const gate = new ServiceGate();
    const controller = new AbortController();
    const waiting = gate.wait(controller.signal);
    controller.abort(new Error('link lost'));
    await expect(waiting).rejects.toThrow('link lost');
    expect(gate.open('late')).toBe(true);
    expect(gate.wait(new AbortController().signal)).toBe('late');
  });
});
