import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AllowList, parseCidr } from '../../../collector/access/allow-list.js';
import { parseIp } from '../../../collector/access/ip-address.js';

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
const v4Text = (parts: number[]): string => parts.join('.');
const v4Value = (parts: number[]): number => parts.reduce((sum, p) => sum * 256 + p, 0);

/** Eight 16-bit words written in full, lower case, no compression. */
const ipv6Words = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 });
const v6Full = (words: number[]): string => words.map((w) => w.toString(16)).join(':');
const v6Value = (words: number[]): bigint => words.reduce((sum, w) => (sum << 16n) | BigInt(w), 0n);

/** The same address with its longest run of zero words written as `::` (as sockets print it). */
function v6Compressed(words: number[]): string {
  let best = { at: -1, length: 0 };
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.length) best = { at: i, length: j - i };
  }
  if (best.length < 2) return v6Full(words);
  const hex = words.map((w) => w.toString(16));
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.length).join(':')}`;
}

describe('parseIp', () => {
  it('reads every IPv6 address, compressed or not, as its 128-bit value', () => {
    fc.assert(
      fc.property(ipv6Words, (words) => {
        // Mapped addresses (::ffff:a.b.c.d) read as IPv4; everything else keeps its value.
        const value = v6Value(words);
        const mapped = value >> 32n === 0xffffn;
        const expected = mapped ? { family: 4, value: value & 0xffffffffn } : { family: 6, value };
        expect(parseIp(v6Full(words))).toEqual(expected);
        expect(parseIp(v6Compressed(words))).toEqual(expected);
        expect(parseIp(`[${v6Compressed(words).toUpperCase()}]`)).toEqual(expected);
      }),
    );
  });

  it('reads an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    fc.assert(
      fc.property(ipv4, (parts) => {
        const v4 = parseIp(v4Text(parts));
        expect(v4).toEqual({ family: 4, value: BigInt(v4Value(parts)) });
        expect(parseIp(`::ffff:${v4Text(parts)}`)).toEqual(v4);
      }),
    );
  });

  it('is undefined for what is not an IP', () => {
    for (const text of ['', 'localhost', '10.0.0.256', '1::2::3', 'unix', '/run/x.sock']) {
      expect(parseIp(text)).toBeUndefined();
    }
  });
});

describe('CIDR matching', () => {
  it('matches an IPv4 address exactly when its first `prefix` bits equal the network', () => {
    fc.assert(
      fc.property(ipv4, ipv4, fc.integer({ min: 0, max: 32 }), (net, host, prefix) => {
        const list = AllowList.parse([`${v4Text(net)}/${prefix}`]);
        const shift = 32 - prefix;
        const same = Math.floor(v4Value(net) / 2 ** shift) === Math.floor(v4Value(host) / 2 ** shift);
        expect(list.admits(v4Text(host))).toBe(same);
        // A dual-stack socket reports the same peer as ::ffff:a.b.c.d.
        expect(list.admits(`::ffff:${v4Text(host)}`)).toBe(same);
      }),
    );
  });

  it('matches an IPv6 address exactly when its first `prefix` bits equal the network', () => {
    fc.assert(
      fc.property(ipv6Words, ipv6Words, fc.integer({ min: 0, max: 128 }), (net, host, prefix) => {
        fc.pre(v6Value(net) >> 32n !== 0xffffn && v6Value(host) >> 32n !== 0xffffn);
        const list = AllowList.parse([`${v6Compressed(net)}/${prefix}`]);
        const shift = BigInt(128 - prefix);
        expect(list.admits(v6Compressed(host))).toBe(v6Value(net) >> shift === v6Value(host) >> shift);
      }),
    );
  });

  it('always matches the network address itself, and a bare address only itself', () => {
    fc.assert(
      fc.property(ipv4, ipv4, (a, b) => {
        const list = AllowList.parse([v4Text(a)]);
        expect(list.admits(v4Text(a))).toBe(true);
        expect(list.admits(v4Text(b))).toBe(v4Text(a) === v4Text(b));
      }),
    );
  });

  it('keeps families apart, denies by default, and admits everything only with "any"', () => {
    const list = AllowList.parse(['10.0.0.0/8', '2001:db8::/32']);
    expect(list.admits('10.1.2.3')).toBe(true);
    expect(list.admits('11.0.0.1')).toBe(false);
    expect(list.admits('2001:db8:1::7')).toBe(true);
    expect(list.admits('2001:db9::7')).toBe(false);
    expect(list.admits('::a00:1')).toBe(false); // 10.0.0.1's bits as plain IPv6: another family
    expect(list.admits('not-an-ip')).toBe(false);
    expect(AllowList.parse([]).admits('10.0.0.1')).toBe(false);
    expect(AllowList.parse(['any']).admits('203.0.113.9')).toBe(true);
    expect(AllowList.parse(['::ffff:10.0.0.0/104']).admits('10.200.0.1')).toBe(true);
  });

  it('refuses malformed entries with a sentence naming them', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const parsed = parseCidr(text);
        if (typeof parsed === 'string') expect(parsed).toContain(text);
      }),
    );
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0.0/-1',
      '10.0.0/8',
      '::/129',
      'any/8',
      '[::1]/128',
      '10.0.0.0/',
      '::ffff:0:0/80',
    ]) {
      expect(typeof parseCidr(bad), bad).toBe('string');
    }
    expect(() => AllowList.parse(['10.0.0.0/8', 'everyone'])).toThrow(/"everyone" is not an address or CIDR/);
  });
});
