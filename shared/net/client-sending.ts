import type { Message } from '../protocol/message.js';
import type { PermanentClientConfig } from './client-options.js';
import { HeldQueue, wireBytes } from './held-queue.js';
import type { Messenger } from './messenger.js';
import { Outlet, type OutletSource } from './outlet.js';
import { RateLimit } from './rate-limit.js';
import type { Timers } from './timers.js';

/**
 * What a permanent client sends, through its one outlet: first the messages `send` held while
 * the link could not take them, then what the layer above feeds it. 'drain' (told through
 * `drained`) means what was held is all on the link and the link can take more.
 */

export interface ClientSendingHooks {
  /** The link is up, its handshake done and it is not paused. */
  readonly writable: () => boolean;
  /** Everything held has gone to the link and the link can take more. */
  readonly drained: () => void;
}

export class ClientSending {
  readonly #queue: HeldQueue;
  readonly #rate: RateLimit | undefined;
  readonly #outlet: Outlet;
  readonly #hooks: ClientSendingHooks;
  #feed: OutletSource | undefined;
  #needDrain = false;
  #dropped = 0;

  constructor(config: PermanentClientConfig, timers: Timers, timer: string, hooks: ClientSendingHooks) {
    this.#hooks = hooks;
    this.#queue = new HeldQueue(config.maxQueueBytes);
    this.#rate = config.rateLimit === undefined ? undefined : new RateLimit(config.rateLimit, config.clock);
    this.#outlet = new Outlet(this.#source(), { rate: this.#rate, timers, timer, writable: hooks.writable });
  }

  /** Messages refused because the held queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  get heldBytes(): number {
    return this.#queue.bytes;
  }

  get heldMessages(): number {
    return this.#queue.length;
  }

  /** Holds `msg` and sends what may go; false, keeping nothing, when the held queue is full. */
  send(msg: Message): boolean {
    if (!this.#queue.offer({ msg, bytes: wireBytes(msg) })) {
      this.#dropped += 1;
      this.#needDrain = true;
      return false;
    }
    this.pump();
    if (this.#queue.length > 0 || this.#outlet.full) this.#needDrain = true;
    return true;
  }

  feed(source: OutletSource): void {
    this.#feed = source;
  }

  /** Sends now what the link, the pause and the rate limit allow (a rate wait pumps by itself). */
  pump(): void {
    if (!this.#outlet.waiting) this.#outlet.pump();
  }

  attach(messenger: Messenger): void {
    this.#outlet.attach(messenger);
  }

  detach(): void {
    this.#outlet.detach();
  }

  /** ALIVE and ABSOLUTELY go at once: past the queue, a pause and the rate limit's wait. */
  control(messenger: Messenger, msg: Message): void {
    this.#rate?.take(wireBytes(msg));
    if (!messenger.send(msg)) this.#outlet.markFull();
  }

  /** Forgets what is held (on close). */
  clear(): void {
    this.#queue.clear();
  }

  /** Held messages first, then the layer above's source. */
  #source(): OutletSource {
    const queue = this.#queue;
    return {
      nextCost: () => queue.peek()?.bytes ?? this.#feed?.nextCost(),
      writeNext: (messenger) => {
        const head = queue.shift();
        return head !== undefined ? messenger.send(head.msg) : this.#feed!.writeNext(messenger);
      },
      pumped: (written, full) => {
        this.#feed?.pumped?.(written, full);
        if (this.#needDrain && queue.length === 0 && !full && this.#hooks.writable()) {
          this.#needDrain = false;
          this.#hooks.drained();
        }
      },
    };
  }
}
