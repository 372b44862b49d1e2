import type { Address } from '../protocol/address.js';
import type { Link } from './link.js';
import type { Messenger } from './messenger.js';

/**
 * One try of the permanent client at one address, and the small helpers its callbacks share: a
 * late callback of an attempt that is over changes nothing.
 */

/** One try at one address: the connect, then the link and its handshake. */
export interface Attempt {
  readonly address: Address;
  readonly abort: AbortController;
  messenger: Messenger | undefined;
  /** Failed or lost: its late callbacks change nothing. */
  over: boolean;
  /** Given up on because the peer went silent (heartbeat): the next try goes to the next address. */
  silent: boolean;
}

export function newAttempt(address: Address): Attempt {
  return { address, abort: new AbortController(), messenger: undefined, over: false, silent: false };
}

/**
 * Runs `start` and routes its outcome, a synchronous throw included, to `ok` or `failed`. What
 * those throw (a listener's bug) surfaces as an uncaught exception, never as an unhandled
 * rejection.
 */
export function settle<T>(
  start: () => Promise<T>,
  ok: (value: T) => void,
  failed: (error: unknown) => void,
): void {
  let promise: Promise<T>;
  try {
    promise = Promise.resolve(start());
  } catch (error) {
    promise = Promise.reject(error);
  }
  promise.then(ok, failed).catch((error: unknown) => {
    process.nextTick(() => {
      throw error;
    });
  });
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export function formatPeer(link: Link): string {
  return `${link.peer.transport}/${link.peer.remote}`;
}
