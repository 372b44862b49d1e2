/**
 * A test's own protocol peer over a raw socket: sends what the test writes, byte for byte,
 * and collects what comes back through the real frame decoder.
 */

import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { encodeMessage } from '../../shared/protocol/encode.js';
import { FrameDecoder } from '../../shared/protocol/frame-decoder.js';
import type { Message } from '../../shared/protocol/message.js';

export class RawClient {
  readonly socket: Socket;
  readonly received: Message[] = [];
  closed = false;
  private waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    const decoder = new FrameDecoder({}, { message: (m) => this.push(m), error: () => {} });
    socket.on('data', (chunk) => decoder.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async connect(target: { port: number; host?: string } | { path: string }): Promise<RawClient> {
    const socket = 'path' in target ? connect(target.path) : connect(target.port, target.host ?? '127.0.0.1');
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  send(msg: Message): void {
    for (const part of encodeMessage(msg)) this.socket.write(part);
  }

  write(raw: string | Buffer): void {
    this.socket.write(raw);
  }

  /** Waits for a received message that matches (already received ones count). */
  async next(match: (m: Message) => boolean, timeoutMs = 10_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found !== undefined) return found;
      if (this.closed) throw new Error(`closed before a matching message; got ${this.commands()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message in ${timeoutMs} ms; got ${this.commands()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until the collector closes the connection. */
  async closedByPeer(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    await Promise.race([
      once(this.socket, 'close'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('not closed')), timeoutMs)),
    ]);
  }

  commands(): string {
    return this.received.map((m) => m.command).join(',');
  }

  close(): void {
    this.socket.destroy();
  }

  private push(msg: Message): void {
    this.received.push(msg);
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
