/**
 * A test's own protocol peer over a raw socket: sends what the test writes, byte for byte,
 * and collects what comes back through the real frame decoder.
 */

import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { encodeMessage } from '../../shared/protocol/encode.js';
import { FrameDecoder } from '../../shared/protocol/frame-decoder.js';
import type { Message } from '../../shared/protocol/message.js';
import { Inbox } from './inbox.js';

export class RawClient {
  readonly socket: Socket;
  readonly inbox = new Inbox();

  private constructor(socket: Socket) {
    this.socket = socket;
    const decoder = new FrameDecoder({}, { message: (m) => this.inbox.push(m), error: () => {} });
    socket.on('data', (chunk) => decoder.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => this.inbox.close());
  }

  static async connect(target: { port: number; host?: string } | { path: string }): Promise<RawClient> {
    const socket = 'path' in target ? connect(target.path) : connect(target.port, target.host ?? '127.0.0.1');
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  get received(): Message[] {
    return this.inbox.received;
  }

  get closed(): boolean {
    return this.inbox.closed;
  }

  send(msg: Message): void {
    for (const part of encodeMessage(msg)) this.socket.write(part);
  }

  write(raw: string | Buffer): void {
    this.socket.write(raw);
  }

  next(match: (m: Message) => boolean, timeoutMs?: number): Promise<Message> {
    return this.inbox.next(match, timeoutMs);
  }

  closedByPeer(timeoutMs?: number): Promise<void> {
    return this.inbox.closedByPeer(timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }
}
