import type { Message } from '../../shared/protocol/message.js';

/**
 * What a test client has received, and waiting for it: on events, with a timeout, never by
 * sleeping. Both test clients (raw socket, product messenger) feed one.
 */
export class Inbox {
  readonly received: Message[] = [];
  closed = false;
  #waiters: Array<() => void> = [];

  push(msg: Message): void {
    this.received.push(msg);
    this.#wake();
  }

  close(): void {
    this.closed = true;
    this.#wake();
  }

  /** Waits for a received message that matches (already received ones count). */
  async next(match: (m: Message) => boolean, timeoutMs = 10_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found !== undefined) return found;
      if (this.closed) throw new Error(`closed before a matching message; got ${this.commands()}`);
      if (!(await this.#wait(deadline)))
        throw new Error(`no matching message in ${timeoutMs} ms; got ${this.commands()}`);
    }
  }

  /** Waits until the peer closes the connection. */
  async closedByPeer(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (!(await this.#wait(deadline))) throw new Error('not closed by the peer');
    }
  }

  commands(): string {
    return this.received.map((m) => m.command).join(',');
  }

  /** Resolves true on the next event, false at the deadline. */
  #wait(deadline: number): Promise<boolean> {
    const left = deadline - Date.now();
    if (left <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), left);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}
