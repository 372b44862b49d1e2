import { describe, expect, it } from 'vitest';
import { levelPasses, parseLevelTest, RouteTable } from '../../../collector/writer/route-rules.js';

describe('parseLevelTest', () => {
  it('reads names, numbers and operators', () => {
    expect(parseLevelTest('>= warn')).toEqual({ op: '>=', value: 40 });
    expect(parseLevelTest('<30')).toEqual({ op: '<', value: 30 });
    expect(parseLevelTest('error')).toEqual({ op: '=', value: 50 });
    expect(parseLevelTest('!= DEBUG')).toEqual({ op: '!=', value: 20 });
    expect(parseLevelTest(60)).toEqual({ op: '=', value: 60 });
  });

  it('says what is wrong, with a near level name', () => {
    expect(parseLevelTest('>= warning')).toEqual({ error: expect.stringContaining('did you mean "warn"?') });
    expect(parseLevelTest('=> warn')).toEqual({ error: expect.stringContaining('not a level expression') });
    expect(parseLevelTest(true)).toEqual({
      error: expect.stringContaining('a level expression is a string'),
    });
  });

  it('compares levels', () => {
    expect(levelPasses({ op: '>=', value: 40 }, 40)).toBe(true);
    expect(levelPasses({ op: '>=', value: 40 }, 30)).toBe(false);
    expect(levelPasses({ op: '<', value: 40 }, 30)).toBe(true);
  });
});

describe('RouteTable', () => {
  const outputs = ['files', 'alerts', 'audit'];
  const bits = (...names: string[]): number => names.reduce((m, n) => m | (1 << outputs.indexOf(n)), 0);

  it('first match wins; continue adds later matches; the default takes the rest', () => {
    const table = new RouteTable(
      [
        { service: ['pay'], to: ['audit'], continue: true },
        { service: ['checkout', 'pay'], level: { op: '>=', value: 40 }, to: ['alerts'], continue: false },
        { to: ['files'], continue: false },
      ],
      outputs,
    );
    expect(table.usesLevel).toBe(true);
    expect(table.targets('checkout', 50)).toBe(bits('alerts'));
    expect(table.targets('checkout', 30)).toBe(bits('files'));
    expect(table.targets('pay', 40)).toBe(bits('audit', 'alerts'));
    expect(table.targets('pay', 30)).toBe(bits('audit', 'files'));
    expect(table.targets('web', 60)).toBe(bits('files'));
  });

  it('sends a record no rule matches to every output no rule names', () => {
    const table = new RouteTable(
      [{ level: { op: '>=', value: 40 }, to: ['alerts'], continue: false }],
      outputs,
    );
    expect(table.targets('web', 30)).toBe(bits('files', 'audit'));
    expect(table.targets('web', 40)).toBe(bits('alerts'));
  });

  it('without rules, every output takes everything', () => {
    const table = new RouteTable([], outputs);
    expect(table.usesLevel).toBe(false);
    expect(table.targets('any', 10)).toBe(bits('files', 'alerts', 'audit'));
  });
});
