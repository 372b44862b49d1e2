/**
 * A test client over any transport through the product's own connectLink + Messenger.
 */

import { type ConnectOptions, connectLink } from '../../shared/net/connect.js';
import { Messenger } from '../../shared/net/messenger.js';
import { parseAddress } from '../../shared/protocol/address.js';
import type { Message } from '../../shared/protocol/message.js';
import { Inbox } from './inbox.js';

export class MessengerClient {
  readonly messenger: Messenger;
  readonly inbox = new Inbox();

  private constructor(messenger: Messenger) {
    this.messenger = messenger;
    messenger.on('message', (m) => this.inbox.push(m));
    messenger.on('close', () => this.inbox.close());
  }

  static async connect(address: string, options: ConnectOptions = {}): Promise<MessengerClient> {
    return new MessengerClient(new Messenger(await connectLink(parseAddress(address), options)));
  }

  get received(): Message[] {
    return this.inbox.received;
  }

  send(msg: Message): void {
    this.messenger.send(msg);
  }

  next(match: (m: Message) => boolean, timeoutMs?: number): Promise<Message> {
    return this.inbox.next(match, timeoutMs);
  }

  closedByPeer(timeoutMs?: number): Promise<void> {
    return this.inbox.closedByPeer(timeoutMs);
  }

  close(): void {
    this.messenger.destroy();
  }
}
