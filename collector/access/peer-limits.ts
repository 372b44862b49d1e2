/**
 * `max_connections_per_peer`: how many connections one peer address may hold open on a
 * listener at once. One host opening every socket could otherwise take all of max_connections.
 * Unix-socket peers have no address and are not counted.
 */

export class PeerConnections {
  readonly #open = new Map<string, number>();
  #limit: number | undefined;

  /** `limit` undefined: no per-peer limit (only the listener's max_connections). */
  constructor(limit: number | undefined) {
    this.#limit = limit;
  }

  set limit(limit: number | undefined) {
    this.#limit = limit;
  }

  /** Connections open from `host` now. */
  count(host: string): number {
    return this.#open.get(host) ?? 0;
  }

  /**
   * Takes a place for one more connection from `host`: the function that gives it back when the
   * connection ends (call it once), or undefined when the peer is at its limit.
   */
  take(host: string): (() => void) | undefined {
    const open = this.count(host);
    if (this.#limit !== undefined && open >= this.#limit) return undefined;
    this.#open.set(host, open + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = this.count(host) - 1;
      if (left > 0) this.#open.set(host, left);
      else this.#open.delete(host);
    };
  }
}

/** The address part of a PeerInfo `remote` (`10.0.0.7:5123`, `[2001:db8::1]:5123`). */
export function peerHost(remote: string): string {
  if (remote.startsWith('[')) return remote.slice(1, remote.indexOf(']'));
  const colon = remote.lastIndexOf(':');
  return colon === -1 ? remote : remote.slice(0, colon);
}
