/**
 * What `logwire signal` is asked to send, checked once (INTERFACES.md "logwire signal"): the
 * target address, the message with its destination and parameters, and the timeout. Every
 * mistake is a SignalUsageError, which the command turns into exit code 1.
 */

import { readFileSync } from 'node:fs';
import { LogwireError } from '../../shared/errors.js';
import { MAX_TIMER_MS } from '../../shared/net/clock.js';
import { type Address, parseAddress, type Scheme } from '../../shared/protocol/address.js';
import { parseLine } from '../../shared/protocol/line.js';
import { type Message, params } from '../../shared/protocol/message.js';

/** The options as the command line gives them (commander's camelCase names). */
export interface SignalOptions {
  /** PROTOCOL.md §9 address; default `tcp/127.0.0.1:4043`. */
  readonly host?: string;
  /** Supplies the scheme only when `host` has none. */
  readonly type?: string;
  readonly reply?: boolean;
  /** Sent as `secret_code`, and only over tls (PROTOCOL.md §5). */
  readonly secretCode?: string;
  /** A PEM file of certificates to trust for tls, besides the system's. */
  readonly ca?: string;
  /** `NAME=VALUE` pairs. */
  readonly param?: readonly string[];
  /** Milliseconds, as a number or the flag's text; default 5000. */
  readonly timeout?: number | string;
  /** `[[server:]service/]COMMAND`. */
  readonly command: string;
}

export interface SignalRequest {
  readonly address: Address;
  readonly message: Message;
  readonly timeout: number;
  readonly reply: boolean;
  /** The certificates of `--ca`, for tls only. */
  readonly ca?: string;
}

export const SIGNAL_TYPES = ['udp', 'tcp', 'unix', 'tls'] as const;
/** A stream, so a postrotate hook learns whether a collector heard it (INTERFACES.md). */
export const DEFAULT_SIGNAL_HOST = 'tcp/127.0.0.1:4043';
export const DEFAULT_SIGNAL_TIMEOUT = 5000;

/** A mistake in the arguments: exit code 1, with a message naming the flag. */
export class SignalUsageError extends LogwireError {
  override readonly name = 'SignalUsageError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('LW_ERR_BAD_OPTION', message, options);
  }
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SCHEME_PREFIX = /^([A-Za-z][A-Za-z0-9+.-]*)(:\/\/|\/)/;

export function parseSignalRequest(options: SignalOptions): SignalRequest {
  const address = targetAddress(options.host, options.type);
  const entries: Record<string, string> = {};
  for (const pair of options.param ?? []) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0 || !PARAM_NAME.test(name)) {
      throw new SignalUsageError(
        `--param ${JSON.stringify(pair)} must be NAME=VALUE with NAME of letters, digits and "_", like --param reason=rotate`,
      );
    }
    if (name === 'bytes')
      throw new SignalUsageError('--param bytes is reserved for framing (docs/protocol.md §2)');
    entries[name] = pair.slice(eq + 1);
  }
  if (options.secretCode !== undefined) entries.secret_code = options.secretCode;
  if (entries.secret_code !== undefined && address.scheme !== 'tls') {
    throw new SignalUsageError(
      `--secret-code is sent only over tls (docs/protocol.md §5), not ${address.scheme}: ` +
        'use --host tls/HOST:PORT, or leave the secret out (loopback and Unix sockets need none)',
    );
  }
  const message = commandMessage(options.command, entries);
  const ca = trustedCertificates(options.ca, address);
  return Object.freeze({
    address,
    message,
    timeout: timeoutMs(options.timeout),
    reply: options.reply === true,
    ...(ca === undefined ? {} : { ca }),
  });
}

function trustedCertificates(file: string | undefined, address: Address): string | undefined {
  if (file === undefined) return undefined;
  if (address.scheme !== 'tls') {
    throw new SignalUsageError(`--ca is for tls only, not ${address.scheme}: use --host tls/HOST:PORT`);
  }
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new SignalUsageError(`--ca ${file} cannot be read (${code})`, { cause: err });
  }
}

function targetAddress(host: string | undefined, type: string | undefined): Address {
  if (type !== undefined && !(SIGNAL_TYPES as readonly string[]).includes(type)) {
    throw new SignalUsageError(
      `--type must be one of ${SIGNAL_TYPES.join(', ')} (got ${JSON.stringify(type)})`,
    );
  }
  const scheme = type as Scheme | undefined;
  if (host === undefined && scheme === 'unix') {
    throw new SignalUsageError(
      '--type unix needs --host with the socket path, like --host /run/logwire.sock',
    );
  }
  // Without --host, --type picks the scheme of the default 127.0.0.1:4043.
  const text = host ?? (scheme === undefined ? DEFAULT_SIGNAL_HOST : '127.0.0.1:4043');
  let address: Address;
  try {
    address = parseAddress(text, scheme === undefined ? {} : { defaultScheme: scheme });
  } catch (err) {
    if (!(err instanceof LogwireError)) throw err;
    const hint = scheme === undefined ? ' (or give the scheme with --type)' : '';
    throw new SignalUsageError(`--host: ${err.message}${hint}`, { cause: err });
  }
  const written = SCHEME_PREFIX.exec(text.trim())?.[1]?.toLowerCase();
  if (scheme !== undefined && host !== undefined && written === address.scheme && written !== scheme) {
    throw new SignalUsageError(
      `--type ${scheme} contradicts --host ${host}: --type only supplies the scheme when --host has none`,
    );
  }
  if (!(SIGNAL_TYPES as readonly string[]).includes(address.scheme)) {
    throw new SignalUsageError(
      `--host ${text}: signal speaks ${SIGNAL_TYPES.join(', ')}, not ${address.scheme}`,
    );
  }
  if (address.activation !== undefined) {
    throw new SignalUsageError(`--host ${text}: a systemd socket can only be listened on`);
  }
  return address;
}

/** `[[server:]service/]COMMAND`, checked by the protocol's own line parser. */
function commandMessage(text: string, entries: Record<string, string>): Message {
  const shape = 'COMMAND must be [[server:]service/]COMMAND in UPPERCASE, like LOG or logwire/LOG';
  const parsed = /^\S+$/.test(text) ? tryParse(text) : undefined;
  if (parsed === undefined || parsed.origin !== undefined) {
    const upper = text.toUpperCase();
    const near =
      upper !== text && /^\S+$/.test(text) && tryParse(upper) !== undefined ? `; did you mean ${upper}?` : '';
    throw new SignalUsageError(`${shape} (got ${JSON.stringify(text)})${near}`);
  }
  const msg: { -readonly [K in keyof Message]: Message[K] } = {
    command: parsed.command,
    params: params(entries),
  };
  if (parsed.dest !== undefined) msg.dest = parsed.dest;
  return msg;
}

function tryParse(text: string): Message | undefined {
  try {
    return parseLine(text);
  } catch {
    return undefined;
  }
}

function timeoutMs(value: number | string | undefined): number {
  if (value === undefined) return DEFAULT_SIGNAL_TIMEOUT;
  const ms = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > MAX_TIMER_MS) {
    throw new SignalUsageError(
      `--timeout must be a whole number of milliseconds, at least 1, like --timeout 5000 (got ${JSON.stringify(value)})`,
    );
  }
  return ms;
}
