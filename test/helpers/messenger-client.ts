/**
 * A test client over any transport through the product's own connectLink + Messenger, with a
 * way to wait for replies.
 */

import { parseAddress } from '../../shared/net/address.js';
import { type ConnectOptions, connectLink } from '../../shared/net/connect.js';
import { Messenger } from '../../shared/net/messenger.js';
import type { Message } from '../../shared/protocol/message.js';

export class MessengerClient {
  readonly messenger: Messenger;
  readonly received: Message[] = [];
  closed = false;
  private waiters: Array<() => void> = [];

  private constructor(messenger: Messenger) {
    this.messenger = messenger;
    messenger.on('message', (m) => {
      this.received.push(m);
      this.wake();
    });
    messenger.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async connect(address: string, options: ConnectOptions = {}): Promise<MessengerClient> {
    return new MessengerClient(new Messenger(await connectLink(parseAddress(address), options)));
  }

  send(msg: Message): void {
    this.messenger.send(msg);
  }

  async next(match: (m: Message) => boolean, timeoutMs = 10_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found !== undefined) return found;
      if (this.closed)
        throw new Error(`closed before a matching message; got ${this.received.map((m) => m.command)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async closedByPeer(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('not closed by the peer');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.messenger.destroy();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
