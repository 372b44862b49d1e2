/**
 * A Messenger is a link plus the codec: messages out, messages in. It is the same for every
 * transport; only the framing differs ('stream' goes through the frame decoder, 'message'
 * decodes each frame alone). Errors in what the peer sent are answered here with the reply
 * the codec owes (INVALID …); a fatal one closes the link after that reply.
 */

import { EventEmitter } from 'node:events';
import { ProtocolError } from '../errors.js';
import { datagramHead, decodeDatagram } from '../protocol/datagram.js';
import { encodeMessage, encodeMessageToBuffer } from '../protocol/encode.js';
import { FrameDecoder } from '../protocol/frame-decoder.js';
import { type FrameLimits, MAX_BAD_LINES_IN_A_ROW } from '../protocol/limits.js';
import { type Message, params } from '../protocol/message.js';
import type { PeerInfo } from '../protocol/peer.js';
import type { Link } from './link.js';

export interface MessengerOptions {
  readonly limits?: Partial<FrameLimits>;
  /** Called for every message sent (message coverage, tracing). */
  readonly onSend?: (msg: Message) => void;
  /** False for links that must never answer (UDP: no reflection). Default true. */
  readonly replies?: boolean;
  /** Where a body spanning reads is copied (FrameDecoderOptions); default a new Buffer each. */
  readonly bodyBuffer?: (bytes: number) => Buffer;
  /**
   * Called when the bytes held for an unfinished message change ('stream' framing), so a
   * receiver can bound what all its links hold together (the collector's held budget).
   */
  readonly onHeld?: (bytes: number) => void;
}

export interface MessengerEvents {
  message: [msg: Message];
  /** A message whose body was over the limit: skipped, framing intact (PROTOCOL.md §6). */
  discarded: [msg: Message, bodyBytes: number];
  /** Something the peer sent broke the protocol; already answered when a reply was owed. */
  protocolError: [error: ProtocolError];
  drain: [];
  close: [error: Error | undefined];
}

export class Messenger extends EventEmitter<MessengerEvents> {
  readonly link: Link;
  private readonly options: MessengerOptions;
  private readonly decoder: FrameDecoder | undefined;
  private readonly limits: Partial<FrameLimits>;
  /** Messages received and sent, for STATUS and dead-peer detection. */
  received = 0;
  sent = 0;
  lastReceivedAt = 0;
  /** Unreadable frames in a row, for 'message' framing (the frame decoder counts its own). */
  private badInARow = 0;
  private heldReported = 0;

  constructor(link: Link, options: MessengerOptions = {}) {
    super();
    this.link = link;
    this.options = options;
    this.limits = options.limits ?? {};
    if (link.framing === 'stream') {
      this.decoder = new FrameDecoder(
        this.limits,
        {
          message: (msg) => this.receive(msg),
          error: (err) => this.onProtocolError(err),
          discarded: (msg, bytes) => this.emit('discarded', msg, bytes),
        },
        options.bodyBuffer === undefined ? {} : { bodyBuffer: options.bodyBuffer },
      );
    }
    link.on('data', (chunk) => this.onData(chunk));
    link.on('drain', () => this.emit('drain'));
    link.once('close', (error) => this.emit('close', error));
  }

  get peer(): PeerInfo {
    return this.link.peer;
  }

  get closed(): boolean {
    return this.link.closed;
  }

  /** Bytes received for a message not yet whole (always 0 for 'message' framing). */
  get heldBytes(): number {
    return this.decoder?.heldBytes ?? 0;
  }

  /** Sends one message. False means the link is full: wait for 'drain' before sending more. */
  send(msg: Message): boolean {
    if (this.link.closed) return false;
    this.sent += 1;
    this.options.onSend?.(msg);
    return this.link.write(
      this.link.framing === 'stream' ? encodeMessage(msg) : [encodeMessageToBuffer(msg)],
    );
  }

  close(): void {
    this.link.close();
  }

  destroy(error?: Error): void {
    this.link.destroy(error);
  }

  private onData(chunk: Buffer): void {
    // Closed by us: what the peer still sends (until its FIN) is neither read nor obeyed.
    if (this.link.closed) return;
    if (this.decoder !== undefined) {
      this.decoder.push(chunk);
      const held = this.decoder.heldBytes;
      if (held !== this.heldReported) {
        this.heldReported = held;
        this.options.onHeld?.(held);
      }
      return;
    }
    if (chunk.length === 0) return; // PROTOCOL.md §7: empty datagrams are ignored
    let msg: Message;
    try {
      msg = decodeDatagram(chunk, this.limits);
    } catch (err) {
      const error = err as ProtocolError;
      // A body over the limit: skipped with its framing intact, as on streams (§6).
      const head = error.code === 'LW_ERR_BODY_TOO_LARGE' ? datagramHead(chunk) : undefined;
      if (head !== undefined) {
        this.received += 1;
        this.badInARow = 0;
        this.emit('discarded', head, Number(head.params.bytes));
        return;
      }
      this.onProtocolError(this.frameError(error));
      return;
    }
    this.badInARow = 0;
    this.receive(msg);
  }

  private receive(msg: Message): void {
    this.received += 1;
    this.lastReceivedAt = Date.now();
    this.emit('message', msg);
  }

  /**
   * The §6 rules a frame decoder applies to lines, applied to whole frames: a first frame that
   * does not parse closes at once without a reply (the peer does not speak logwire), and so
   * does the tenth bad one in a row.
   */
  private frameError(err: ProtocolError): ProtocolError {
    this.badInARow += 1;
    if (this.received === 0 && this.badInARow === 1) {
      return new ProtocolError(err.code, `${err.message} (first message: the peer does not speak logwire)`, {
        fatal: true,
      });
    }
    if (this.badInARow < MAX_BAD_LINES_IN_A_ROW) return err;
    return new ProtocolError(err.code, `${err.message} (${MAX_BAD_LINES_IN_A_ROW} unreadable in a row)`, {
      fatal: true,
      ...(err.reply === undefined ? {} : { reply: err.reply }),
    });
  }

  private onProtocolError(err: ProtocolError): void {
    if (err.reply !== undefined && this.options.replies !== false) {
      this.send({ command: err.reply.command, params: params(err.reply.params) });
    }
    this.emit('protocolError', err);
    if (err.fatal) this.link.close();
  }
}
