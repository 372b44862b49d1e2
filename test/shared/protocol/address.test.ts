import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogwireError } from '../../../shared/errors.js';
import {
  type Address,
  DEFAULT_PORT,
  formatAddress,
  isLoopbackHost,
  parseAddress,
  parseAddressList,
  SCHEMES,
  type Scheme,
} from '../../../shared/protocol/address.js';

function badAddress(text: string, opts?: { defaultScheme?: Scheme }): LogwireError {
  try {
    parseAddress(text, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(LogwireError);
    expect((err as LogwireError).code).toBe('LW_ERR_BAD_ADDRESS');
    return err as LogwireError;
  }
  throw new Error(`parseAddress(${JSON.stringify(text)}) did not throw`);
}

describe('parseAddress', () => {
  describe('slash form', () => {
    it.each<[string, Address]>([
      ['tcp/127.0.0.1:4043', { scheme: 'tcp', host: '127.0.0.1', port: 4043 }],
      ['tcp/example.com:9', { scheme: 'tcp', host: 'example.com', port: 9 }],
      ['udp/*4:4043', { scheme: 'udp', host: '0.0.0.0', port: 4043 }],
      ['ws/$4:4044/logs', { scheme: 'ws', host: '127.0.0.1', port: 4044, path: '/logs' }],
      ['wss/example.com:443/a/b?x=1', { scheme: 'wss', host: 'example.com', port: 443, path: '/a/b?x=1' }],
      ['tcp/[::1]:4043', { scheme: 'tcp', host: '::1', port: 4043 }],
      ['tls/[fe80::1%eth0]:4044', { scheme: 'tls', host: 'fe80::1%eth0', port: 4044 }],
      ['ndjson/$n:4045', { scheme: 'ndjson', host: 'localhost', port: 4045 }],
      ['tcp/$6:1', { scheme: 'tcp', host: '::1', port: 1 }],
      ['udp/*6:2', { scheme: 'udp', host: '::', port: 2 }],
      ['tcp/127.0.0.1:0', { scheme: 'tcp', host: '127.0.0.1', port: 0 }],
      ['tcp/127.0.0.1:65535', { scheme: 'tcp', host: '127.0.0.1', port: 65535 }],
      ['tcp/host:4043/', { scheme: 'tcp', host: 'host', port: 4043 }],
      ['  TCP/host:1  ', { scheme: 'tcp', host: 'host', port: 1 }],
    ])('parses %s', (text, expected) => {
      expect(parseAddress(text)).toEqual(expected);
    });

    it('gives tcp and udp the default port 4043', () => {
      expect(DEFAULT_PORT).toBe(4043);
      expect(parseAddress('tcp/$4')).toEqual({ scheme: 'tcp', host: '127.0.0.1', port: 4043 });
      expect(parseAddress('udp/[::1]')).toEqual({ scheme: 'udp', host: '::1', port: 4043 });
    });

    it.each(['tls/host', 'ws/host/logs', 'wss/[::1]', 'ndjson/$4'])('says %s needs a port', (text) => {
      expect(badAddress(text).message).toMatch(/needs a port: \w+ has no default port/);
    });

    it('returns frozen objects', () => {
      const address = parseAddress('tcp/systemd#x');
      expect(Object.isFrozen(address)).toBe(true);
      expect(Object.isFrozen(address.activation)).toBe(true);
    });
  });

  describe('unix', () => {
    it.each<[string, string]>([
      ['unix//run/logwire/logwire.sock', '/run/logwire/logwire.sock'],
      ['unix/./x.sock', './x.sock'],
      ['unix/../d/x.sock', '../d/x.sock'],
      ['unix/x.sock', 'x.sock'],
      ['unix///run/x.sock', '//run/x.sock'],
      ['unix:///run/x.sock', '/run/x.sock'],
      ['unix://./x.sock', './x.sock'],
      ['unix//tmp/with space/é.sock', '/tmp/with space/é.sock'],
    ])('parses %s', (text, path) => {
      expect(parseAddress(text)).toEqual({ scheme: 'unix', path });
    });

    it.each([
      ['unix/', /socket path is missing/],
      ['unix:', /no scheme/],
      ['unix//run/', /ends with "\/"/],
      ['unix://run/x.sock', /must start with "\/", ".\/" or "..\/"/],
    ])('rejects %s', (text, why) => {
      expect(badAddress(text).message).toMatch(why);
    });
  });

  describe('URL form', () => {
    it.each<[string, string]>([
      ['tcp://127.0.0.1:4043', 'tcp/127.0.0.1:4043'],
      ['tcp://$4', 'tcp/$4'],
      ['wss://host:443/path', 'wss/host:443/path'],
      ['ws://[::1]:80/', 'ws/[::1]:80/'],
      ['udp://*6:4043', 'udp/*6:4043'],
      ['tls://host:4044/', 'tls/host:4044'],
      ['tcp://systemd#3', 'tcp/systemd#3'],
      ['unix://systemd#sock', 'unix/systemd#sock'],
    ])('reads %s as %s', (url, slash) => {
      expect(parseAddress(url)).toEqual(parseAddress(slash));
    });
  });

  describe('socket activation', () => {
    it.each<[string, Address]>([
      ['tcp/systemd#3', { scheme: 'tcp', activation: { index: 3 } }],
      ['tcp/systemd#0', { scheme: 'tcp', activation: { index: 0 } }],
      ['udp/systemd#logwire-udp', { scheme: 'udp', activation: { name: 'logwire-udp' } }],
      ['ws/systemd#web/logs', { scheme: 'ws', activation: { name: 'web' }, path: '/logs' }],
      ['unix/systemd#logwire.socket', { scheme: 'unix', activation: { name: 'logwire.socket' } }],
      ['unix/./systemd#3', { scheme: 'unix', path: './systemd#3' }],
      ['tcp/systemd:4043', { scheme: 'tcp', host: 'systemd', port: 4043 }],
    ])('parses %s', (text, expected) => {
      expect(parseAddress(text)).toEqual(expected);
    });

    it.each(['tcp/systemd#', 'tcp/systemd#3:4043', 'tcp/systemd#a:b', 'tcp/systemd#x y'])(
      'rejects %s',
      (text) => {
        expect(badAddress(text).message).toMatch(/descriptor index \(0 = fd 3\) or a LISTEN_FDNAMES name/);
      },
    );

    it('rejects a path on a scheme other than ws', () => {
      expect(badAddress('tcp/systemd#3/x').message).toMatch(/only ws and wss addresses take a path/);
    });
  });

  describe('defaultScheme', () => {
    it('supplies the scheme when the text names none', () => {
      expect(parseAddress('127.0.0.1:9', { defaultScheme: 'udp' })).toEqual({
        scheme: 'udp',
        host: '127.0.0.1',
        port: 9,
      });
      expect(parseAddress('$4', { defaultScheme: 'tcp' })).toEqual({
        scheme: 'tcp',
        host: '127.0.0.1',
        port: 4043,
      });
      expect(parseAddress('/run/x.sock', { defaultScheme: 'unix' })).toEqual({
        scheme: 'unix',
        path: '/run/x.sock',
      });
      expect(parseAddress('[::1]:5', { defaultScheme: 'tls' })).toEqual({
        scheme: 'tls',
        host: '::1',
        port: 5,
      });
    });

    it('does not override a scheme the text names', () => {
      expect(parseAddress('tcp/$4:1', { defaultScheme: 'udp' }).scheme).toBe('tcp');
    });

    it('does not apply to an unknown URL scheme', () => {
      expect(badAddress('http://host:1', { defaultScheme: 'tcp' }).message).toMatch(/unknown scheme "http"/);
    });
  });

  describe('errors', () => {
    it.each([
      ['', /it is empty/],
      ['   ', /it is empty/],
      ['127.0.0.1:4043', /no scheme; the schemes are tcp, tls, udp, ws, wss, unix, ndjson/],
      ['http://host:80', /unknown scheme "http"/],
      ['sctp/host:1', /unknown scheme "sctp"/],
      ['tcp/', /the host is missing/],
      ['tcp/:4043', /the host is missing/],
      ['tcp/host:', /the port after ":" is empty/],
      ['tcp/host:http', /port "http" is not a number/],
      ['tcp/host:-1', /port "-1" is not a number/],
      ['tcp/host:65536', /port 65536 is above 65535/],
      ['tcp/host:123456', /port "123456" is not a number/],
      ['tcp/::1:4043', /IPv6 address must be written in brackets/],
      ['tcp/[::1:4043', /no closing \]/],
      ['tcp/[1.2.3.4]:1', /\[1\.2\.3\.4\] is not an IPv6 address/],
      ['tcp/[::1]x', /unexpected "x" after the IPv6 address/],
      ['tcp/256.1.1.1:1', /"256\.1\.1\.1" is not an IPv4 address/],
      ['tcp/$5:1', /unknown host shorthand "\$5"/],
      ['tcp/*:1', /unknown host shorthand "\*"/],
      ['tcp/ho st:1', /"ho st" is not a host name/],
      ['tcp/user@host:1', /"user@host" is not a host name/],
      ['tcp/host:1/path', /only ws and wss addresses take a path, not tcp/],
      ['ws/host:1/a b', /the path contains a space/],
      ['tcp/host\n:1', /control character/],
    ])('rejects %j', (text, why) => {
      expect(badAddress(text).message).toMatch(why);
    });

    it('quotes the input and gives a right example for the scheme', () => {
      expect(badAddress('ws/host').message).toBe(
        'address "ws/host": a ws address needs a port: ws has no default port; ' +
          'write it like ws/127.0.0.1:4044/logs (docs/protocol.md §9)',
      );
      expect(badAddress('unix/').message).toContain('write it like unix//run/logwire/logwire.sock');
      expect(badAddress('nope').message).toContain('write it like tcp/127.0.0.1:4043');
    });
  });
});

describe('formatAddress', () => {
  it.each<[string, string]>([
    ['tcp/$4', 'tcp/127.0.0.1:4043'],
    ['tcp://[::1]:4043', 'tcp/[::1]:4043'],
    ['udp/*6:9', 'udp/[::]:9'],
    ['wss://h:443/x', 'wss/h:443/x'],
    ['unix:///run/x.sock', 'unix//run/x.sock'],
    ['unix/./x.sock', 'unix/./x.sock'],
    ['tcp/systemd#3', 'tcp/systemd#3'],
    ['ws/systemd#web/logs', 'ws/systemd#web/logs'],
    ['tcp/127.0.0.1:0', 'tcp/127.0.0.1:0'],
  ])('formats %s as %s', (text, canonical) => {
    expect(formatAddress(parseAddress(text))).toBe(canonical);
  });

  it('keeps a relative unix file named like activation a file', () => {
    const text = formatAddress({ scheme: 'unix', path: 'systemd#3' });
    expect(text).toBe('unix/./systemd#3');
    expect(parseAddress(text)).toEqual({ scheme: 'unix', path: './systemd#3' });
  });
});

const segment = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/);
const hostArb = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.domain(),
  fc.constantFrom('localhost', '::', '0.0.0.0', 'fe80::1%eth0'),
);
const activationArb = fc.oneof(
  fc.nat({ max: 999_999_999 }).map((index) => ({ index })),
  fc
    .stringMatching(/^[A-Za-z0-9_.@+=-]{1,40}$/)
    .filter((name) => !/^\d+$/.test(name))
    .map((name) => ({ name })),
);
const wsPathArb = fc
  .tuple(fc.array(segment, { maxLength: 4 }), fc.boolean())
  .map(([parts, query]) => `/${parts.join('/')}${query ? '?a=1&b=%20' : ''}`);
const unixPathArb = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
  fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => `./${parts.join('/')}`),
  fc.array(fc.stringMatching(/^[a-z]{1,8}$/), { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/')),
);

const addressArb: fc.Arbitrary<Address> = fc
  .constantFrom(...SCHEMES)
  .chain((scheme): fc.Arbitrary<Address> => {
    const ws = scheme === 'ws' || scheme === 'wss';
    const path = ws ? fc.option(wsPathArb, { nil: undefined }) : fc.constant(undefined);
    const activated = fc
      .record({ activation: activationArb, path })
      .map(({ activation, path }) =>
        path === undefined ? { scheme, activation } : { scheme, activation, path },
      );
    if (scheme === 'unix')
      return fc.oneof(
        unixPathArb.map((p) => ({ scheme, path: p })),
        activated,
      );
    const hosted = fc
      .record({ host: hostArb, port: fc.integer({ min: 0, max: 65535 }), path })
      .map(({ host, port, path }) =>
        path === undefined ? { scheme, host, port } : { scheme, host, port, path },
      );
    return fc.oneof(hosted, activated);
  });

describe('properties', () => {
  it('parses what formatAddress writes back to the same address', () => {
    fc.assert(
      fc.property(addressArb, (address) => {
        expect(parseAddress(formatAddress(address))).toEqual(address);
      }),
      { numRuns: 500 },
    );
  });

  it('reads the URL form as the slash form', () => {
    fc.assert(
      fc.property(addressArb, (address) => {
        const url = formatAddress(address).replace('/', '://');
        if (address.scheme === 'unix' && address.path && !/^\.?\.?\//.test(address.path)) return;
        expect(parseAddress(url)).toEqual(address);
      }),
      { numRuns: 300 },
    );
  });

  it('either throws LW_ERR_BAD_ADDRESS or returns an address that formats stably', () => {
    const text = fc.oneof(
      fc.string(),
      fc
        .tuple(fc.constantFrom(...SCHEMES, 'TCP', 'http'), fc.constantFrom('/', '://'), fc.string())
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(text, (input) => {
        let address: Address;
        try {
          address = parseAddress(input);
        } catch (err) {
          expect((err as LogwireError).code).toBe('LW_ERR_BAD_ADDRESS');
          return;
        }
        const canonical = formatAddress(address);
        expect(formatAddress(parseAddress(canonical))).toBe(canonical);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseAddressList', () => {
  it('splits a comma-separated list in order', () => {
    expect(parseAddressList('tcp/$4:1, tcp/$4:2,unix//x.sock').map(formatAddress)).toEqual([
      'tcp/127.0.0.1:1',
      'tcp/127.0.0.1:2',
      'unix//x.sock',
    ]);
  });

  it('takes an array', () => {
    expect(parseAddressList(['udp/$6', 'ws/h:1/p']).map(formatAddress)).toEqual([
      'udp/[::1]:4043',
      'ws/h:1/p',
    ]);
  });

  it('passes defaultScheme on', () => {
    expect(parseAddressList('$4:1,$4:2', { defaultScheme: 'udp' }).map((a) => a.scheme)).toEqual([
      'udp',
      'udp',
    ]);
  });

  it('rejects an empty list and names a bad entry', () => {
    expect(() => parseAddressList('')).toThrow(/is empty/);
    expect(() => parseAddressList([])).toThrow(/is empty/);
    expect(() => parseAddressList('tcp/$4:1,tcp/$4:x')).toThrow(/address "tcp\/\$4:x": port "x"/);
  });
});

describe('isLoopbackHost', () => {
  it.each([
    '127.0.0.1',
    '127.255.1.2',
    '::1',
    '0:0:0:0:0:0:0:1',
    '[::1]',
    '::ffff:127.0.0.1',
    'localhost',
    'LOCALHOST',
  ])('says %s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each([
    '128.0.0.1',
    '0.0.0.0',
    '::',
    '::ffff:10.0.0.1',
    'example.com',
    'localhost.example',
    '',
    '10.0.0.1',
  ])('says %s is not loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});
