/**
 * One original source relayed upstream, as its own session (PROTOCOL.md §4): the upstream sees
 * the source, service and host the app registered here, and every batch with its own numbers,
 * whole, so it deduplicates by the source's mark and app → relay → upstream stays exactly once.
 *
 *   REGISTER source=S;service;host;next=<spooled end>;first=<lowest held> ─▶ READY last=L
 *     (forget ≤ L) ─▶ EVENTS from the source's queue, a window in flight ─▶ ACK seq=M ─▶ spool.ack
 *
 * The permanent client connects, fails over across the forward list and backs off; this is the
 * session above it, one state:
 *
 *              register            ready              pause
 *   connecting ───────▶ registering ─────▶ ready ───────────▶ paused
 *        ▲                  │ lose          │  ▲   unpause      │
 *        └── retry ── lost ◀┴───────────────┴──┴────────────────┘
 *   close: any state ──▶ closed
 */

import { LogwireError } from '../../../shared/errors.js';
import type { Messenger } from '../../../shared/net/messenger.js';
import type { OutletSource } from '../../../shared/net/outlet.js';
import {
  type ClientStatus,
  PermanentClient,
  type PermanentClientOptions,
} from '../../../shared/net/permanent-client.js';
import { parseInteger } from '../../../shared/protocol/accessors.js';
import { type Message, message } from '../../../shared/protocol/message.js';
import { lastSeq } from '../../../shared/sender/batch.js';
import { register } from '../../../shared/sender/registration.js';
import { StateMachine } from '../../../shared/state-machine.js';
import type { RelaySpool, SourceQueue } from './relay-spool.js';

export type UpstreamState = 'connecting' | 'registering' | 'ready' | 'paused' | 'lost' | 'closed';

const TRANSITIONS = {
  register: { from: ['connecting', 'lost'], to: 'registering' },
  ready: { from: ['registering'], to: 'ready' },
  pause: { from: ['ready'], to: 'paused' },
  unpause: { from: ['paused'], to: 'ready' },
  lose: { from: ['connecting', 'registering', 'ready', 'paused'], to: 'lost' },
  retry: { from: ['lost'], to: 'connecting' },
  close: { from: ['connecting', 'registering', 'ready', 'paused', 'lost'], to: 'closed' },
} as const;
type Move = keyof typeof TRANSITIONS;

/** EVENTS line allowance in the rate limit's cost of a batch. */
const EVENTS_LINE_BYTES = 64;

export interface UpstreamOptions {
  readonly client: Omit<PermanentClientOptions, 'handshake'>;
  readonly registerTimeout: number;
  readonly token?: string;
  /** The upstream acknowledged records: the spool has room again. */
  readonly onFreed: () => void;
  readonly warn: (msg: string, fields?: Record<string, unknown>) => void;
}

export class UpstreamSession {
  readonly source: string;
  readonly #spool: RelaySpool;
  readonly #queue: SourceQueue;
  readonly #options: UpstreamOptions;
  readonly #machine = new StateMachine<UpstreamState, Move>('upstream session', TRANSITIONS, 'connecting');
  readonly #client: PermanentClient;
  /** Highest record sent in this session: an ACK above it is clamped to it. */
  #sentTop = 0;
  /** ACKs are applied one after another (each may delete segment files). */
  #acks: Promise<void> = Promise.resolve();

  constructor(source: string, spool: RelaySpool, options: UpstreamOptions) {
    this.source = source;
    this.#spool = spool;
    this.#queue = spool.source(source)!;
    this.#options = options;
    this.#client = new PermanentClient({
      ...options.client,
      handshake: (messenger, signal) => this.#register(messenger, signal),
    });
    this.#client.feed(this.#outlet());
    this.#client.on('message', (msg) => this.#onMessage(msg));
    this.#client.on('status', (status) => this.#onStatus(status));
  }

  get state(): UpstreamState {
    return this.#machine.state;
  }

  /** Records held for this source, not yet acknowledged upstream. */
  get waiting(): number {
    return this.#queue.window.records;
  }

  /** New committed batches: send what the window allows. */
  wake(): void {
    if (this.#machine.state === 'ready') this.#client.pump();
  }

  async close(): Promise<void> {
    this.#machine.applyIf('close');
    await this.#client.close();
    await this.#acks;
  }

  async #register(messenger: Messenger, signal: AbortSignal): Promise<void> {
    this.#machine.applyIf('retry');
    this.#machine.apply('register');
    const { window, end, service, host } = this.#queue;
    const next = end;
    const first = window.first?.seq ?? next;
    const outcome = await register(
      messenger,
      {
        ...{ source: this.source, service, host, next, first },
        ...(this.#options.token === undefined ? {} : { token: this.#options.token }),
      },
      { timeout: this.#options.registerTimeout, timers: this.#client.timers, signal },
    );
    if (outcome.kind === 'refused') {
      const why = `${outcome.command} reason=${outcome.reason}`;
      this.#options.warn('the upstream refused a relayed source', { source: this.source, answer: why });
      throw new LogwireError('LW_ERR_REFUSED', `the upstream answered REGISTER with ${why}`);
    }
    // Forget what the upstream has; everything else is resent whole, with its own numbers.
    window.rewind();
    this.#sentTop = outcome.last;
    this.#ack(outcome.last);
  }

  #outlet(): OutletSource {
    return {
      nextCost: () => {
        if (this.#machine.state !== 'ready') return undefined;
        const next = this.#queue.window.next();
        return next === undefined ? undefined : next.body.length + EVENTS_LINE_BYTES;
      },
      writeNext: (messenger) => {
        const { window } = this.#queue;
        const next = window.next()!;
        const room = messenger.send(message('EVENTS', { seq: next.seq, count: next.count }, next.body));
        window.markSent();
        this.#sentTop = Math.max(this.#sentTop, lastSeq(next));
        this.#client.awaitingReplies(true);
        return room;
      },
    };
  }

  #ack(last: number): void {
    this.#acks = this.#acks
      .then(() => this.#spool.ack(this.source, last))
      .then(
        (freed) => {
          if (this.#queue.window.inFlight === 0) this.#client.awaitingReplies(false);
          if (freed > 0) this.#options.onFreed();
          this.wake();
        },
        (error: unknown) => this.#options.warn('freeing the forward spool failed', { error: String(error) }),
      );
  }

  #onMessage(msg: Message): void {
    switch (msg.command) {
      case 'ACK': {
        const seq = parseInteger(msg.params.seq ?? '');
        if (seq !== undefined && this.#machine.state !== 'lost') this.#ack(Math.min(seq, this.#sentTop));
        return;
      }
      case 'PAUSE':
        this.#machine.applyIf('pause');
        this.#client.pause();
        return;
      case 'UNPAUSE':
        this.#machine.applyIf('unpause');
        this.#client.resume();
        return;
      default:
    }
  }

  #onStatus(status: ClientStatus): void {
    if (status.state === 'connecting') {
      this.#machine.applyIf('retry');
    } else if (status.state === 'connected') {
      this.#machine.applyIf('ready');
      this.#machine.applyIf('unpause');
      this.wake();
    } else if (status.state === 'paused') {
      // A PAUSE right after READY arrives before the link is reported connected.
      this.#machine.applyIf('ready');
      this.#machine.applyIf('pause');
    } else if (status.state === 'disconnected') {
      // What was in flight waits to be resent whole in the next session.
      this.#machine.applyIf('lose');
      this.#queue.window.rewind();
    }
  }
}
