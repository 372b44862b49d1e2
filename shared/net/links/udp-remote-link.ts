import type { PeerInfo } from '../../protocol/peer.js';
import { LinkBase } from './link-base.js';

/** Datagrams kept for a link whose consumer has not subscribed to 'data' yet. */
const EARLY_DATAGRAMS = 16;

/**
 * One remote (ip:port) of a UDP listener, as a Link with 'message' framing: each datagram
 * the listener routes here is one 'data' event. write() sends nothing, ever (PROTOCOL.md §7:
 * no reply to a datagram, so no reflection or amplification). Closing forgets the remote; a
 * later datagram from it makes a new link.
 */
export class UdpRemoteLink extends LinkBase {
  readonly framing = 'message';
  readonly pendingBytes = 0;
  readonly #onClosed: (link: UdpRemoteLink) => void;
  #early: Buffer[] | undefined = [];

  /** `onClosed` lets the listener forget the remote. */
  constructor(peer: PeerInfo, onClosed: (link: UdpRemoteLink) => void) {
    super(peer);
    this.#onClosed = onClosed;
  }

  /** Called by the listener for each non-empty datagram from this remote. */
  deliver(datagram: Buffer): void {
    if (this.closed) return;
    if (this.#early === undefined) this.emitData(datagram);
    else if (this.#early.length < EARLY_DATAGRAMS) this.#early.push(datagram);
  }

  write(_parts: readonly Buffer[]): boolean {
    return true;
  }

  close(): void {
    this.destroy();
  }

  destroy(error?: Error): void {
    if (!this.markClosed()) return;
    this.#early = undefined;
    this.#onClosed(this);
    this.emitClose(error);
  }

  /** Later, not inside on('data'): the subscriber may not have finished wiring itself up. */
  protected startReading(): void {
    queueMicrotask(() => {
      const early = this.#early ?? [];
      this.#early = undefined;
      for (const datagram of early) if (!this.closed) this.emitData(datagram);
    });
  }
}
