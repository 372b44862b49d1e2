import { LogwireError } from '../errors.js';
import { type Address, formatAddress } from '../protocol/address.js';
import { type Clock, systemClock } from './clock.js';
import { DEFAULT_CLOSE_GRACE } from './links/socket-link.js';
import { DEFAULT_UNIX_MODE } from './unix-socket.js';

/**
 * What a listener is given and what it is: its options, checked once with their defaults, and the
 * error it fails with. Shared by listener.ts and the stream and UDP listeners it chooses between.
 */

export const DEFAULT_LISTEN_HANDSHAKE_TIMEOUT = 10_000;
/** A UDP remote that sent nothing for this long is forgotten (its link closed). */
export const DEFAULT_UDP_IDLE_TIMEOUT = 60_000;
/** Remotes a UDP listener tracks at once when maxConnections is not set; the idlest goes first. */
export const DEFAULT_UDP_MAX_REMOTES = 4096;

export interface ListenOptions {
  /** Open connections (UDP: tracked remotes) at most; a stream beyond it is closed at once. */
  readonly maxConnections?: number;
  /** A link that receives nothing for this many ms is closed. Default: none (UDP: 60000). */
  readonly idleTimeout?: number;
  /** From accept to a usable link over tls, ws and wss (each step, TLS then upgrade), in ms. Default 10000. */
  readonly handshakeTimeout?: number;
  /** Required for tls and wss: PEM text or Buffers. */
  readonly tls?: {
    readonly cert: string | Buffer;
    readonly key: string | Buffer;
    readonly ca?: string | Buffer | readonly (string | Buffer)[];
    /** Ask clients for a certificate signed by `ca`, and refuse those without one. */
    readonly requestCert?: boolean;
  };
  /** The socket is created 0600, then given `mode` (default 0600) and `group` (a name or gid). */
  readonly unix?: { readonly mode?: number; readonly group?: string | number };
  readonly ws?: {
    /** Only upgrades to this path are accepted (default: the address's path, else any). */
    readonly path?: string;
    /** Largest WebSocket message accepted, in bytes (ws's default: 100 MiB). */
    readonly maxPayload?: number;
    /**
     * Asked for each upgrade that carries an `Origin` header (a browser): false refuses it with
     * HTTP 403. Default: every origin is accepted.
     */
    readonly acceptOrigin?: (origin: string) => boolean;
  };
  /** Where LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID are read for `systemd#…` addresses. */
  readonly env?: NodeJS.ProcessEnv;
  readonly backlog?: number;
  readonly closeGrace?: number;
  readonly clock?: Clock;
}

/** The limits a running listener can change (RELOAD): the same meaning as in ListenOptions. */
export type ListenLimits = Pick<ListenOptions, 'maxConnections' | 'idleTimeout'>;

export interface Listener {
  /** Where it listens: the real port when 0 was asked, the real address of a systemd socket. */
  readonly address: Address;
  /** Open links, plus streams still in their handshake (UDP: tracked remotes). */
  readonly connections: number;
  /**
   * Applies new limits at once: maxConnections to the next connection (open ones stay), and
   * idleTimeout to every open link, counted from now. Throws LW_ERR_BAD_OPTION like listen().
   */
  setLimits(limits: ListenLimits): void;
  /** Stops accepting and destroys every open link. Idempotent. */
  close(): Promise<void>;
}

/** ListenOptions with every default applied, checked once (STYLE.md). */
export interface ResolvedListenOptions {
  readonly maxConnections: number;
  readonly idleTimeout: number | undefined;
  readonly handshakeTimeout: number;
  readonly tls: ListenOptions['tls'];
  readonly unixMode: number;
  readonly unixGroup: string | number | undefined;
  readonly wsPath: string | undefined;
  readonly wsMaxPayload: number | undefined;
  readonly wsAcceptOrigin: ((origin: string) => boolean) | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly backlog: number | undefined;
  readonly closeGrace: number;
  readonly clock: Clock;
}

function counter(address: Address) {
  return (name: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < 0) {
      throw new LogwireError(
        'LW_ERR_BAD_OPTION',
        `listen ${formatAddress(address)}: ${name} must be a whole number ≥ 0, not ${value}`,
      );
    }
    return value;
  };
}

/** ListenLimits with their defaults applied (UDP forgets idle remotes by default). */
export function resolveListenLimits(
  address: Address,
  limits: ListenLimits,
): Pick<ResolvedListenOptions, 'maxConnections' | 'idleTimeout'> {
  const count = counter(address);
  const udp = address.scheme === 'udp';
  const idle = limits.idleTimeout ?? (udp ? DEFAULT_UDP_IDLE_TIMEOUT : undefined);
  return {
    maxConnections: count('maxConnections', limits.maxConnections, udp ? DEFAULT_UDP_MAX_REMOTES : Infinity),
    idleTimeout: idle === undefined || idle === 0 ? undefined : count('idleTimeout', idle, 0),
  };
}

export function resolveListenOptions(address: Address, options: ListenOptions): ResolvedListenOptions {
  const where = `listen ${formatAddress(address)}`;
  const count = counter(address);
  const secure = address.scheme === 'tls' || address.scheme === 'wss';
  if (secure && (options.tls?.cert === undefined || options.tls.key === undefined)) {
    throw new LogwireError(
      'LW_ERR_BAD_OPTION',
      `${where}: a ${address.scheme} listener needs tls.cert and tls.key`,
    );
  }
  const mode = options.unix?.mode ?? DEFAULT_UNIX_MODE;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw new LogwireError('LW_ERR_BAD_OPTION', `${where}: unix.mode must be a permission like 0o660`);
  }
  return Object.freeze({
    ...resolveListenLimits(address, options),
    handshakeTimeout: count('handshakeTimeout', options.handshakeTimeout, DEFAULT_LISTEN_HANDSHAKE_TIMEOUT),
    tls: options.tls,
    unixMode: mode,
    unixGroup: options.unix?.group,
    wsPath: options.ws?.path ?? address.path,
    wsMaxPayload: options.ws?.maxPayload,
    wsAcceptOrigin: options.ws?.acceptOrigin,
    env: options.env ?? process.env,
    backlog: options.backlog,
    closeGrace: count('closeGrace', options.closeGrace, DEFAULT_CLOSE_GRACE),
    clock: options.clock ?? systemClock,
  });
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address in use — is another collector running?',
  EACCES: 'permission denied (ports below 1024 need privileges; a Unix socket needs a writable directory)',
  EADDRNOTAVAIL: 'this host has no such address',
  ENOENT: 'the directory does not exist',
  EBADF: 'the inherited descriptor is not open',
  ENOTSOCK: 'the inherited descriptor is not a socket',
};

/** LW_ERR_LISTEN `listen <address>: <what went wrong>`, keeping the system error as cause. */
export function listenFailure(address: Address, err: unknown): LogwireError {
  if (err instanceof LogwireError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const text = (code !== undefined ? ERRNO_TEXT[code] : undefined) ?? (err as Error).message;
  return new LogwireError('LW_ERR_LISTEN', `listen ${formatAddress(address)}: ${text}`, { cause: err });
}
