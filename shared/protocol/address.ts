import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { LogwireError } from '../errors.js';

/**
 * Addresses of listeners and targets (PROTOCOL.md §9, INTERFACES.md): `scheme/host:port[/path]`,
 * the URL forms `scheme://host:port[/path]`, the host shorthands `$4 $6 $n *4 *6`, Unix socket
 * paths and systemd socket activation (`tcp/systemd#3`, `tcp/systemd#name`).
 */

export const SCHEMES = ['tcp', 'tls', 'udp', 'ws', 'wss', 'unix', 'ndjson'] as const;
export type Scheme = (typeof SCHEMES)[number];

/** Port of tcp and udp when none is written; the other host schemes have none (INTERFACES.md). */
export const DEFAULT_PORT = 4043;

/** A socket handed over by systemd: an index into LISTEN_FDS (0 = fd 3) or a LISTEN_FDNAMES name. */
export type Activation = { readonly index: number } | { readonly name: string };

export interface Address {
  readonly scheme: Scheme;
  /** Without IPv6 brackets; shorthands already resolved (`$4` → `127.0.0.1`). */
  readonly host?: string;
  readonly port?: number;
  /** A Unix socket path, or a ws/wss URL path starting with `/`. */
  readonly path?: string;
  readonly activation?: Activation;
}

export interface ParseAddressOptions {
  /** Scheme of a text that names none (`--type` of `logwire signal`). */
  readonly defaultScheme?: Scheme;
}

// A Map, so that a host such as "__proto__" is not looked up on Object.prototype.
const SHORTHANDS: ReadonlyMap<string, string> = new Map([
  ['$4', '127.0.0.1'],
  ['$6', '::1'],
  ['$n', 'localhost'],
  ['*4', '0.0.0.0'],
  ['*6', '::'],
]);

const EXAMPLES: Readonly<Record<Scheme, string>> = {
  tcp: 'tcp/127.0.0.1:4043',
  tls: 'tls/example.com:4044',
  udp: 'udp/127.0.0.1:4043',
  ws: 'ws/127.0.0.1:4044/logs',
  wss: 'wss/example.com:443/logs',
  unix: 'unix//run/logwire/logwire.sock',
  ndjson: 'ndjson/127.0.0.1:4045',
};

const SCHEME_PREFIX = /^([A-Za-z][A-Za-z0-9+.-]*)(:\/\/|\/)/;
const HOSTNAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/;
// systemd names are ASCII without ':'; we also leave out '/', ',' and spaces, which separate paths and lists.
const ACTIVATION = /^systemd#([^/]*)(\/.*)?$/;
const ACTIVATION_NAME = /^[A-Za-z0-9_.@+=-]{1,255}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

function isScheme(word: string): word is Scheme {
  return (SCHEMES as readonly string[]).includes(word);
}

function badAddress(text: string, problem: string, scheme?: Scheme): LogwireError {
  const example = scheme ? EXAMPLES[scheme] : EXAMPLES.tcp;
  return new LogwireError(
    'LW_ERR_BAD_ADDRESS',
    `address ${JSON.stringify(text)}: ${problem}; write it like ${example} (docs/protocol.md §9)`,
  );
}

/**
 * Parses one address. Throws LogwireError LW_ERR_BAD_ADDRESS naming the input, what is wrong
 * and a right example. `unix/systemd#N` means activation; write `unix/./systemd#N` for a file.
 */
export function parseAddress(text: string, opts: ParseAddressOptions = {}): Address {
  const input = text.trim();
  if (input === '') throw badAddress(text, 'it is empty');
  if (CONTROL.test(input)) throw badAddress(text, 'it contains a control character');

  const prefix = SCHEME_PREFIX.exec(input);
  const word = prefix?.[1]?.toLowerCase();
  if (prefix && word !== undefined && isScheme(word)) {
    const url = prefix[2] === '://';
    return parseBody(text, word, input.slice(prefix[0].length), url);
  }
  if (prefix?.[2] === '://' || !opts.defaultScheme) {
    const what = prefix ? `unknown scheme "${prefix[1]}"` : 'no scheme';
    throw badAddress(text, `${what}; the schemes are ${SCHEMES.join(', ')}`);
  }
  return parseBody(text, opts.defaultScheme, input, false);
}

function parseBody(text: string, scheme: Scheme, body: string, url: boolean): Address {
  const activation = ACTIVATION.exec(body);
  if (activation) return parseActivation(text, scheme, activation[1] ?? '', activation[2]);
  if (scheme === 'unix') return freeze({ scheme, path: parseUnixPath(text, body, url) });

  let host: string;
  let rest: string;
  if (body.startsWith('[')) {
    const close = body.indexOf(']');
    if (close < 0) throw badAddress(text, 'the IPv6 address has no closing ]', scheme);
    host = body.slice(1, close);
    if (!isIPv6(host)) throw badAddress(text, `[${host}] is not an IPv6 address`, scheme);
    rest = body.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':') && !rest.startsWith('/')) {
      throw badAddress(text, `unexpected "${rest}" after the IPv6 address`, scheme);
    }
  } else {
    const authority = body.split('/', 1)[0] ?? '';
    if (authority.indexOf(':') !== authority.lastIndexOf(':')) {
      throw badAddress(text, 'an IPv6 address must be written in brackets', scheme);
    }
    const end = body.search(/[:/]/);
    host = parseHost(text, scheme, end < 0 ? body : body.slice(0, end));
    rest = end < 0 ? '' : body.slice(end);
  }

  let port: number | undefined;
  if (rest.startsWith(':')) {
    const slash = rest.indexOf('/');
    const digits = slash < 0 ? rest.slice(1) : rest.slice(1, slash);
    port = parsePort(text, scheme, digits);
    rest = slash < 0 ? '' : rest.slice(slash);
  } else if (scheme === 'tcp' || scheme === 'udp') {
    port = DEFAULT_PORT;
  } else {
    throw badAddress(text, `a ${scheme} address needs a port: ${scheme} has no default port`, scheme);
  }

  const path = parsePath(text, scheme, rest);
  return freeze(path === undefined ? { scheme, host, port } : { scheme, host, port, path });
}

function parseHost(text: string, scheme: Scheme, raw: string): string {
  if (raw === '') throw badAddress(text, 'the host is missing', scheme);
  const shorthand = SHORTHANDS.get(raw);
  if (shorthand !== undefined) return shorthand;
  if (raw.startsWith('$') || raw.startsWith('*')) {
    throw badAddress(text, `unknown host shorthand "${raw}": use $4, $6, $n, *4 or *6`, scheme);
  }
  if (/^[\d.]+$/.test(raw)) {
    if (!isIPv4(raw)) throw badAddress(text, `"${raw}" is not an IPv4 address`, scheme);
    return raw;
  }
  if (!HOSTNAME.test(raw)) {
    throw badAddress(text, `"${raw}" is not a host name (letters, digits, "-", "_" and dots)`, scheme);
  }
  return raw;
}

function parsePort(text: string, scheme: Scheme, digits: string): number {
  if (digits === '') throw badAddress(text, 'the port after ":" is empty', scheme);
  if (!/^\d{1,5}$/.test(digits)) throw badAddress(text, `port "${digits}" is not a number`, scheme);
  const port = Number(digits);
  if (port > 65535) throw badAddress(text, `port ${port} is above 65535`, scheme);
  return port;
}

/** Only ws and wss carry a path; a lone trailing "/" is tolerated elsewhere (`tcp://host:4043/`). */
function parsePath(text: string, scheme: Scheme, rest: string): string | undefined {
  if (rest === '') return undefined;
  if (scheme === 'ws' || scheme === 'wss') {
    if (/\s/.test(rest)) throw badAddress(text, 'the path contains a space', scheme);
    return rest;
  }
  if (rest === '/') return undefined;
  throw badAddress(text, `only ws and wss addresses take a path, not ${scheme} ("${rest}")`, scheme);
}

function parseUnixPath(text: string, path: string, url: boolean): string {
  if (path === '') throw badAddress(text, 'the socket path is missing', 'unix');
  // In a URL, what follows "//" looks like a host, so a path must say it is one.
  if (url && !/^(\/|\.\/|\.\.\/)/.test(path)) {
    throw badAddress(
      text,
      'after unix:// the socket path must start with "/", "./" or "../" (unix:///run/x.sock)',
      'unix',
    );
  }
  if (path.endsWith('/')) throw badAddress(text, 'the socket path ends with "/"', 'unix');
  return path;
}

function parseActivation(text: string, scheme: Scheme, ref: string, rest: string | undefined): Address {
  let activation: Activation;
  if (/^\d{1,9}$/.test(ref)) {
    activation = Object.freeze({ index: Number(ref) });
  } else if (ACTIVATION_NAME.test(ref)) {
    activation = Object.freeze({ name: ref });
  } else {
    throw badAddress(
      text,
      `systemd#${ref} needs a descriptor index (0 = fd 3) or a LISTEN_FDNAMES name ` +
        '(letters, digits, "._@+=-"), and no port',
      scheme,
    );
  }
  const path = parsePath(text, scheme, rest ?? '');
  return freeze(path === undefined ? { scheme, activation } : { scheme, activation, path });
}

function freeze(address: Address): Address {
  return Object.freeze(address);
}

/** The canonical `scheme/host:port[/path]` form: IPv6 in brackets, `unix//abs/path`, `tcp/systemd#3`. */
export function formatAddress(address: Address): string {
  const { scheme, activation, path } = address;
  if (activation) {
    const ref = 'index' in activation ? String(activation.index) : activation.name;
    return `${scheme}/systemd#${ref}${path ?? ''}`;
  }
  if (scheme === 'unix') {
    // A relative file that looks like activation keeps its meaning with "./".
    const safe = path?.startsWith('systemd#') ? `./${path}` : (path ?? '');
    return `unix/${safe}`;
  }
  const host = address.host ?? '';
  const shown = host.includes(':') ? `[${host}]` : host;
  const port = address.port === undefined ? '' : `:${address.port}`;
  return `${scheme}/${shown}${port}${path ?? ''}`;
}

/** Several addresses, comma-separated or as an array, in failover order. */
export function parseAddressList(
  text: string | readonly string[],
  opts: ParseAddressOptions = {},
): Address[] {
  const items = typeof text === 'string' ? text.split(',') : text;
  const list: Address[] = [];
  for (const item of items) {
    if (typeof item !== 'string') {
      throw new LogwireError('LW_ERR_BAD_ADDRESS', `address list: ${String(item)} is not a string`);
    }
    if (item.trim() === '' && typeof text === 'string') continue;
    list.push(parseAddress(item, opts));
  }
  if (list.length === 0) {
    throw new LogwireError(
      'LW_ERR_BAD_ADDRESS',
      `address list ${JSON.stringify(text)} is empty; write it like tcp/127.0.0.1:4043,tcp/127.0.0.1:4044`,
    );
  }
  return list;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** True for 127.0.0.0/8, ::1, ::ffff:127.x.x.x and localhost (RFC 6761). */
export function isLoopbackHost(host: string): boolean {
  let h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const zone = h.indexOf('%');
  if (zone >= 0) h = h.slice(0, zone);
  const lower = h.toLowerCase();
  if (lower === 'localhost' || lower === 'localhost.') return true;
  if (isIPv4(h)) return LOOPBACK.check(h, 'ipv4');
  if (isIPv6(h)) return LOOPBACK.check(h, 'ipv6');
  return false;
}
