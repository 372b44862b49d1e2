import { afterEach, describe, expect, it } from 'vitest';
import { LogwireError } from '../../../shared/errors.js';
import { ManualClock, type TimerHandle } from '../../../shared/net/clock.js';
import { wireBytes } from '../../../shared/net/held-queue.js';
import type { Messenger } from '../../../shared/net/messenger.js';
import {
  type ClientState,
  type ClientStatus,
  type ConnectFn,
  type Handshake,
  PermanentClient,
  type PermanentClientOptions,
} from '../../../shared/net/permanent-client.js';
import { type Address, formatAddress } from '../../../shared/protocol/address.js';
import { type Message, message } from '../../../shared/protocol/message.js';
import { FakeLink } from '../../helpers/fake-link.js';
import { LoopbackPeer, refusedAddress } from '../../helpers/loopback-peer.js';

/** A ManualClock that remembers every delay asked of it. */
class RecordingClock extends ManualClock {
  readonly delays: number[] = [];
  override setTimeout(fn: () => void, ms: number): TimerHandle {
    this.delays.push(ms);
    return super.setTimeout(fn, ms);
  }
}

const clients: PermanentClient[] = [];
const peers: LoopbackPeer[] = [];

function makeClient(options: PermanentClientOptions): PermanentClient {
  const client = new PermanentClient(options);
  clients.push(client);
  return client;
}

async function startPeer(port = 0, respond?: LoopbackPeer['respond']): Promise<LoopbackPeer> {
  const peer = await LoopbackPeer.start(port, respond);
  peers.push(peer);
  return peer;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(peers.splice(0).map((peer) => peer.stop()));
});

function record(client: PermanentClient): ClientStatus[] {
  const list: ClientStatus[] = [];
  client.on('status', (status) => list.push(status));
  return list;
}

/** The next status of that state; a guard timer turns a hang into a failure. */
function nextStatus<S extends ClientState>(
  client: PermanentClient,
  state: S,
  timeout = 5000,
): Promise<Extract<ClientStatus, { state: S }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('status', check);
      reject(new Error(`no '${state}' status within ${timeout} ms (now ${client.state})`));
    }, timeout);
    const check = (status: ClientStatus): void => {
      if (status.state !== state) return;
      clearTimeout(timer);
      client.off('status', check);
      resolve(status as Extract<ClientStatus, { state: S }>);
    };
    client.on('status', check);
  });
}

/**
 * Every status in order, consumed by `next`: a status emitted before the test asks for it is
 * not missed (a fake connect settles within microtasks).
 */
class StatusLog {
  readonly all: ClientStatus[] = [];
  #read = 0;
  #wake: (() => void) | undefined;

  constructor(client: PermanentClient) {
    client.on('status', (status) => {
      this.all.push(status);
      this.#wake?.();
    });
  }

  /** The next status not yet read that has this state, skipping others. */
  async next<S extends ClientState>(state: S, timeout = 5000): Promise<Extract<ClientStatus, { state: S }>> {
    const deadline = Date.now() + timeout;
    for (;;) {
      while (this.#read < this.all.length) {
        const status = this.all[this.#read++]!;
        if (status.state === state) return status as Extract<ClientStatus, { state: S }>;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no '${state}' status within ${timeout} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

/** Resolves on the messenger's next message with that command; rejects when `signal` aborts. */
function nextMessage(messenger: Messenger, command: string, signal?: AbortSignal): Promise<Message> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: Message): void => {
      if (msg.command !== command) return;
      done();
      resolve(msg);
    };
    const onAbort = (): void => {
      done();
      reject(signal?.reason);
    };
    const done = (): void => {
      messenger.off('message', onMessage);
      signal?.removeEventListener('abort', onAbort);
    };
    messenger.on('message', onMessage);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A connect that never succeeds and rejects only when aborted, as connectLink does. */
function hangingConnect(calls: AbortSignal[] = []): ConnectFn {
  return (_address, _options, signal) =>
    new Promise((_resolve, reject) => {
      if (signal !== undefined) calls.push(signal);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
}

function refused(): ConnectFn {
  return async (address) => {
    throw new LogwireError('LW_ERR_CONNECT', `connect ${formatAddress(address)}: connection refused`);
  };
}

const fakeAddress = (port: number): Address => ({ scheme: 'tcp', host: '127.0.0.1', port });

const events = (n: number): Message => message('EVENTS', { n });

const names = (msgs: readonly Message[]): string[] =>
  msgs.map((msg) => (msg.params.n === undefined ? msg.command : `${msg.command}#${msg.params.n}`));

/** The appender's handshake in small: REGISTER, then READY or a refusal. */
const registerHandshake: Handshake = async (messenger, signal) => {
  messenger.send(message('REGISTER', { name: 'app' }));
  const outcome = await Promise.race([
    nextMessage(messenger, 'READY', signal),
    nextMessage(messenger, 'INVALID', signal),
  ]);
  if (outcome.command === 'INVALID') {
    throw new LogwireError('LW_ERR_BAD_PARAM', `REGISTER refused: ${outcome.params.reason}`);
  }
};

describe('PermanentClient', () => {
  describe('holding messages', () => {
    it('sends what was held while the peer was down, in order, once it starts', async () => {
      const address = await refusedAddress();
      const client = makeClient({ addresses: [address], backoff: () => 5 });
      await nextStatus(client, 'disconnected');
      for (let n = 0; n < 5; n++) expect(client.send(events(n))).toBe(true);
      expect(client.queuedMessages).toBe(5);
      expect(client.queuedBytes).toBeGreaterThan(0);
      let drains = 0;
      client.on('drain', () => drains++);

      const peer = await startPeer(address.port);
      const got = await peer.waitForMessages(5);
      expect(names(got)).toEqual(['EVENTS#0', 'EVENTS#1', 'EVENTS#2', 'EVENTS#3', 'EVENTS#4']);
      expect(client.state).toBe('connected');
      expect(client.queuedBytes).toBe(0);
      expect(drains).toBe(1);
      expect(client.connects).toBe(1);
    });

    it('reconnects to a peer that restarts on the same port and sends what it held, in order', async () => {
      const peer = await startPeer();
      const client = makeClient({ addresses: [peer.address], backoff: () => 5 });
      await nextStatus(client, 'connected');
      client.send(events(0));
      client.send(events(1));
      await peer.waitForMessages(2);

      const lost = nextStatus(client, 'disconnected');
      await peer.stop();
      const status = await lost;
      expect(status.retryIn).toBe(5);
      for (let n = 2; n < 6; n++) client.send(events(n));

      const back = nextStatus(client, 'connected');
      await peer.listen();
      await back;
      const got = await peer.waitForMessages(6);
      expect(names(got)).toEqual(['EVENTS#0', 'EVENTS#1', 'EVENTS#2', 'EVENTS#3', 'EVENTS#4', 'EVENTS#5']);
      expect(peer.connections).toHaveLength(2);
      expect(names(peer.connections[1]!.messages)).toEqual(['EVENTS#2', 'EVENTS#3', 'EVENTS#4', 'EVENTS#5']);
      expect(client.connects).toBe(2);
      expect(client.reconnects).toBe(1);
    });

    it('refuses a message when the queue is full, counts it and stays within the bound', async () => {
      const client = makeClient({
        addresses: [fakeAddress(1)],
        connect: hangingConnect(),
        maxQueueBytes: 1000,
      });
      const size = wireBytes(events(0));
      let accepted = 0;
      for (let n = 0; n < 100; n++) if (client.send(events(n % 10))) accepted++;
      expect(accepted).toBe(Math.floor(1000 / size));
      expect(client.dropped).toBe(100 - accepted);
      expect(client.queuedBytes).toBeLessThanOrEqual(1000);
      expect(client.queuedMessages).toBe(accepted);
    });

    it('takes one message larger than the bound into an empty queue, and nothing after it', () => {
      const client = makeClient({
        addresses: [fakeAddress(1)],
        connect: hangingConnect(),
        maxQueueBytes: 100,
      });
      expect(client.send(message('EVENTS', {}, Buffer.alloc(500)))).toBe(true);
      expect(client.send(events(1))).toBe(false);
      expect(client.dropped).toBe(1);
    });

    it('refuses sends after close without counting them as dropped', async () => {
      const client = makeClient({ addresses: [fakeAddress(1)], connect: hangingConnect() });
      await client.close();
      expect(client.send(events(0))).toBe(false);
      expect(client.dropped).toBe(0);
    });

    it('throws only for a message that cannot be formatted', () => {
      const client = makeClient({ addresses: [fakeAddress(1)], connect: hangingConnect() });
      expect(() => client.send(message('lower'))).toThrow(LogwireError);
      expect(client.queuedMessages).toBe(0);
    });
  });

  describe('failover and backoff', () => {
    it('fails over to the second address when the first refuses', async () => {
      const first = await refusedAddress();
      const peer = await startPeer();
      const client = makeClient({ addresses: [first, peer.address], backoff: () => 5 });
      const statuses = record(client);
      client.send(events(0));
      const connected = await nextStatus(client, 'connected');
      expect(connected.address).toEqual(peer.address);
      expect(client.address).toEqual(peer.address);
      const [a, b, c] = statuses;
      expect(a).toEqual({ state: 'connecting', address: first });
      expect(b?.state === 'disconnected' && b.retryIn).toBe(0);
      expect(b?.state === 'disconnected' && (b.error as LogwireError).code).toBe('LW_ERR_CONNECT');
      expect(c).toEqual({ state: 'connecting', address: peer.address });
      expect(names(await peer.waitForMessages(1))).toEqual(['EVENTS#0']);
    });

    it('waits one backoff step per failed round of addresses', async () => {
      const clock = new RecordingClock();
      const tried: string[] = [];
      const connect: ConnectFn = async (address) => {
        tried.push(formatAddress(address));
        throw new LogwireError('LW_ERR_CONNECT', 'refused');
      };
      const client = makeClient({
        addresses: [fakeAddress(1), fakeAddress(2)],
        backoff: { initial: 100, max: 400, factor: 2, jitter: 0 },
        clock,
        connect,
      });
      const log = new StatusLog(client);
      const retries: number[] = [];
      for (let i = 0; i < 8; i++) {
        const status = await log.next('disconnected');
        retries.push(status.retryIn);
        clock.advance(status.retryIn);
      }
      expect(retries).toEqual([0, 100, 0, 200, 0, 400, 0, 400]);
      expect(clock.delays).toEqual(retries);
      expect(tried).toEqual(Array.from({ length: 9 }, (_, i) => `tcp/127.0.0.1:${(i % 2) + 1}`));
    });

    it('follows a list schedule, jitter only shortening each step, the last step repeating', async () => {
      const clock = new RecordingClock();
      const client = makeClient({
        addresses: [fakeAddress(1)],
        backoff: '100,200,300',
        clock,
        connect: refused(),
      });
      const log = new StatusLog(client);
      for (let i = 0; i < 5; i++) clock.advance((await log.next('disconnected')).retryIn);
      const ceilings = [100, 200, 300, 300, 300];
      expect(clock.delays).toHaveLength(5);
      clock.delays.forEach((delay, i) => {
        expect(delay).toBeLessThanOrEqual(ceilings[i]!);
        expect(delay).toBeGreaterThanOrEqual(ceilings[i]! * 0.8);
      });
    });

    it('starts the schedule again after a connection that held', async () => {
      const clock = new RecordingClock();
      const links: FakeLink[] = [];
      let calls = 0;
      const connect: ConnectFn = async () => {
        calls += 1;
        if (calls === 3 || calls === 6) {
          const link = new FakeLink();
          links.push(link);
          return link;
        }
        throw new LogwireError('LW_ERR_CONNECT', 'refused');
      };
      const client = makeClient({
        addresses: [fakeAddress(1)],
        backoff: { initial: 100, max: 1000, factor: 2, jitter: 0 },
        clock,
        connect,
      });
      const log = new StatusLog(client);
      const retries: number[] = [];
      const drive = async (): Promise<void> => {
        const status = await log.next('disconnected');
        retries.push(status.retryIn);
        clock.advance(status.retryIn);
      };
      await drive();
      await drive();
      await log.next('connected');
      links[0]!.peerClose();
      await drive();
      await drive();
      await drive();
      await log.next('connected');
      expect(retries).toEqual([100, 200, 100, 200, 400]);
      expect(client.reconnects).toBe(1);
    });
  });

  describe('handshake', () => {
    it('runs before held messages are flushed and before the state is connected', async () => {
      const peer = await startPeer(0, (msg, conn) => {
        if (msg.command === 'REGISTER') conn.messenger.send(message('READY'));
      });
      let stateDuringHandshake: ClientState | undefined;
      const client = makeClient({
        addresses: [peer.address],
        handshake: async (messenger, signal) => {
          stateDuringHandshake = client.state;
          expect(client.messenger).toBe(messenger);
          await registerHandshake(messenger, signal);
        },
      });
      const statuses = record(client);
      client.send(events(0));
      client.send(events(1));
      const got = await peer.waitForMessages(3);
      expect(names(got)).toEqual(['REGISTER', 'EVENTS#0', 'EVENTS#1']);
      expect(stateDuringHandshake).toBe('connecting');
      expect(statuses.map((s) => s.state)).toEqual(['connecting', 'connected']);
    });

    it('closes the link and backs off when the handshake fails, sending nothing held', async () => {
      const peer = await startPeer(0, (msg, conn) => {
        if (msg.command === 'REGISTER') conn.messenger.send(message('INVALID', { reason: 'no' }));
      });
      const clock = new RecordingClock();
      const client = makeClient({
        addresses: [peer.address],
        handshake: registerHandshake,
        backoff: { initial: 100, max: 100, factor: 1, jitter: 0 },
        clock,
      });
      client.send(events(0));
      const failed = await nextStatus(client, 'disconnected');
      expect(failed.error?.message).toBe('REGISTER refused: no');
      expect(failed.retryIn).toBe(100);
      await peer.waitForDisconnect(1);
      expect(names(peer.messages)).toEqual(['REGISTER']);
      expect(client.queuedMessages).toBe(1);
      expect(client.connects).toBe(0);

      const again = nextStatus(client, 'disconnected');
      clock.advance(100);
      await again;
      expect(names(peer.messages)).toEqual(['REGISTER', 'REGISTER']);
    });

    it('applies a PAUSE that arrives with READY once connected', async () => {
      const link = new FakeLink();
      const client = makeClient({
        addresses: [fakeAddress(1)],
        connect: async () => link,
        handshake: registerHandshake,
      });
      client.on('message', (msg) => {
        if (msg.command === 'PAUSE') client.pause();
        if (msg.command === 'UNPAUSE') client.resume();
      });
      const statuses = record(client);
      client.send(events(0));
      while (link.writes.length === 0) await new Promise((resolve) => setImmediate(resolve));
      link.deliver(message('READY'));
      link.deliver(message('PAUSE'));
      await nextStatus(client, 'paused');
      expect(statuses.map((s) => s.state)).toEqual(['connecting', 'connected', 'paused']);
      expect(link.text).toBe('REGISTER name=app\n');

      link.deliver(message('UNPAUSE'));
      expect(client.state).toBe('connected');
      expect(link.text).toBe('REGISTER name=app\nEVENTS n=0\n');
    });
  });

  describe('pause', () => {
    it('holds messages while paused and sends them on resume; heartbeats go on', async () => {
      const clock = new ManualClock();
      const peer = await startPeer();
      const client = makeClient({
        addresses: [peer.address],
        clock,
        heartbeat: { idle: 1000, timeout: 500 },
      });
      await nextStatus(client, 'connected');
      client.pause();
      expect(client.state).toBe('paused');
      client.send(events(0));
      client.send(events(1));
      expect(client.queuedMessages).toBe(2);

      clock.advance(1000);
      expect(names(await peer.waitForMessages(1))).toEqual(['ALIVE']);

      const resumed = nextStatus(client, 'connected');
      client.resume();
      expect((await resumed).messenger).toBe(client.messenger);
      expect(names(await peer.waitForMessages(3))).toEqual(['ALIVE', 'EVENTS#0', 'EVENTS#1']);
    });

    it('is ignored while disconnected: each link starts unpaused', async () => {
      const client = makeClient({ addresses: [fakeAddress(1)], connect: refused(), backoff: [1000] });
      await nextStatus(client, 'disconnected');
      client.pause();
      expect(client.state).toBe('disconnected');
    });
  });

  describe('heartbeat', () => {
    it('sends ALIVE after idle, drops a silent peer after the timeout and reconnects', async () => {
      const clock = new ManualClock();
      const peer = await startPeer();
      const client = makeClient({
        addresses: [peer.address],
        clock,
        heartbeat: { idle: 1000, timeout: 500 },
        backoff: () => 50,
      });
      const connected = await nextStatus(client, 'connected');
      clock.advance(999);
      expect(connected.messenger.sent).toBe(0);
      clock.advance(1);
      const [alive] = await peer.waitForMessages(1);
      expect(alive?.command).toBe('ALIVE');
      expect(alive?.params.serial).toBe('1');

      const lost = nextStatus(client, 'disconnected');
      clock.advance(500);
      const status = await lost;
      expect((status.error as LogwireError).code).toBe('LW_ERR_PEER_SILENT');
      expect(status.retryIn).toBe(50);
      await peer.waitForDisconnect(1);

      const back = nextStatus(client, 'connected');
      clock.advance(50);
      await back;
      expect(client.reconnects).toBe(1);
      expect(peer.connections).toHaveLength(2);
    });

    it('while replies are awaited, drops a silent peer after the awaiting spans and tries the next address at once', async () => {
      const clock = new ManualClock();
      const silent = await startPeer();
      const next = await startPeer();
      const client = makeClient({
        addresses: [silent.address, next.address],
        clock,
        heartbeat: { idle: 30_000, timeout: 30_000, awaiting: { idle: 1000, timeout: 1000 } },
        backoff: () => 60_000,
      });
      await nextStatus(client, 'connected');
      clock.advance(10_000); // quiet, nothing awaited: no ALIVE
      client.awaitingReplies(true);
      clock.advance(1000);
      const [alive] = await silent.waitForMessages(1);
      expect(alive?.command).toBe('ALIVE');
      const lost = nextStatus(client, 'disconnected');
      clock.advance(1000);
      const status = await lost;
      expect((status.error as LogwireError).code).toBe('LW_ERR_PEER_SILENT');
      expect(status.error?.message).toMatch(/sent nothing for 2000 ms/);
      expect(status.retryIn).toBe(0);
      const back = nextStatus(client, 'connected');
      clock.advance(0);
      expect((await back).address).toBe(client.address);
      expect(formatAddress(client.address)).toBe(formatAddress(next.address));
      expect(next.connections).toHaveLength(1);
    });

    it('keeps a peer that answers, and does not pass the ABSOLUTELY on', async () => {
      const clock = new ManualClock();
      const peer = await startPeer(0, (msg, conn) => {
        if (msg.command === 'ALIVE')
          conn.messenger.send(message('ABSOLUTELY', { serial: msg.params.serial }));
      });
      const client = makeClient({
        addresses: [peer.address],
        clock,
        heartbeat: { idle: 1000, timeout: 500 },
      });
      const seen: Message[] = [];
      client.on('message', (msg) => seen.push(msg));
      const { messenger } = await nextStatus(client, 'connected');
      const answer = nextMessage(messenger, 'ABSOLUTELY');
      clock.advance(1000);
      expect((await answer).params.serial).toBe('1');
      clock.advance(500);
      expect(client.state).toBe('connected');
      clock.advance(500); // idle again since the answer: a second ALIVE
      await peer.waitForMessages(2);
      expect(names(peer.messages)).toEqual(['ALIVE', 'ALIVE']);
      expect(seen).toEqual([]);
    });

    it("answers the peer's ALIVE itself and passes on everything else", async () => {
      const peer = await startPeer();
      const client = makeClient({ addresses: [peer.address] });
      const seen: Message[] = [];
      client.on('message', (msg) => seen.push(msg));
      await nextStatus(client, 'connected');
      const conn = await peer.waitForConnections(1);
      const note = new Promise<void>((resolve) =>
        client.on('message', (msg) => msg.command === 'NOTE' && resolve()),
      );
      conn.messenger.send(message('ALIVE', { serial: 7 }));
      conn.messenger.send(message('ABSOLUTELY', { serial: 99 }));
      conn.messenger.send(message('NOTE'));
      const [reply] = await peer.waitForMessages(1);
      expect(reply?.command).toBe('ABSOLUTELY');
      expect(reply?.params.serial).toBe('7');
      await note;
      expect(seen.map((msg) => msg.command)).toEqual(['ABSOLUTELY', 'NOTE']);
    });
  });

  describe('rate limit', () => {
    it('lets 10 × 500 bytes through 1000 bytes per 100 ms in no less than 400 ms of clock', async () => {
      const clock = new ManualClock();
      const peer = await startPeer();
      const client = makeClient({ addresses: [peer.address], clock, rateLimit: { bytes: 1000, perMs: 100 } });
      await nextStatus(client, 'connected');
      let size = 400;
      while (wireBytes(message('EVENTS', { n: 0 }, Buffer.alloc(size))) < 500) size++;
      const body = Buffer.alloc(size, 0x61);
      expect(wireBytes(message('EVENTS', { n: 0 }, body))).toBe(500);
      let drains = 0;
      client.on('drain', () => drains++);
      for (let n = 0; n < 10; n++) expect(client.send(message('EVENTS', { n }, body))).toBe(true);

      let advanced = 0;
      while (client.queuedMessages > 0) {
        expect(advanced).toBeLessThan(1000);
        clock.advance(10);
        advanced += 10;
      }
      // The bucket starts full (2 messages), then 8 × 50 ms of refill.
      expect(advanced).toBeGreaterThanOrEqual(400);
      expect(advanced).toBeLessThanOrEqual(410);
      expect(drains).toBe(1);
      expect(names(await peer.waitForMessages(10))).toEqual(
        Array.from({ length: 10 }, (_, n) => `EVENTS#${n}`),
      );
    });
  });

  describe('#close', () => {
    it('aborts a connect in progress without an error or a retry', async () => {
      const signals: AbortSignal[] = [];
      const client = makeClient({ addresses: [fakeAddress(1)], connect: hangingConnect(signals) });
      const statuses = record(client);
      await nextStatus(client, 'connecting');
      expect(signals).toHaveLength(1);
      await client.close();
      expect(signals[0]?.aborted).toBe(true);
      expect(statuses.map((s) => s.state)).toEqual(['connecting', 'closed']);
      expect(client.state).toBe('closed');
      expect(client.timers.has('reconnect')).toBe(false);
    });

    it('aborts a handshake in progress and closes its link', async () => {
      const peer = await startPeer();
      let signal: AbortSignal | undefined;
      const client = makeClient({
        addresses: [peer.address],
        handshake: (_messenger, s) => {
          signal = s;
          return new Promise((_resolve, reject) => s.addEventListener('abort', () => reject(s.reason)));
        },
      });
      const statuses = record(client);
      await peer.waitForConnections(1);
      while (signal === undefined) await new Promise((resolve) => setImmediate(resolve));
      await client.close();
      expect(signal.aborted).toBe(true);
      await peer.waitForDisconnect(1);
      expect(statuses.map((s) => s.state)).toEqual(['connecting', 'closed']);
    });

    it('flushes what was written before the link closes', async () => {
      const peer = await startPeer();
      const client = makeClient({ addresses: [peer.address] });
      const { messenger } = await nextStatus(client, 'connected');
      const body = Buffer.alloc(256 * 1024, 0x62);
      client.send(message('EVENTS', { n: 0 }, body));
      // Past the link's backpressure, until the socket holds some in its own buffer (the kernel
      // takes megabytes on loopback): that is what a destroy would lose.
      let n = 1;
      while (messenger.link.pendingBytes === 0 && n < 200)
        messenger.send(message('EVENTS', { n: n++ }, body));
      expect(messenger.link.pendingBytes).toBeGreaterThan(0);
      const written = messenger.sent;
      await client.close();
      await peer.waitForDisconnect(1);
      expect(peer.messages.map((msg) => msg.body?.length)).toEqual(Array(written).fill(body.length));
    });

    it('resolves every call, the second and a later one too', async () => {
      const peer = await startPeer();
      const client = makeClient({ addresses: [peer.address] });
      await nextStatus(client, 'connected');
      const first = client.close();
      const second = client.close();
      expect(second).toBe(first);
      await first;
      await client.close();
      expect(client.messenger).toBeUndefined();
    });

    it('closes before the first attempt without connecting', async () => {
      const signals: AbortSignal[] = [];
      const client = makeClient({ addresses: [fakeAddress(1)], connect: hangingConnect(signals) });
      await client.close();
      await Promise.resolve();
      expect(signals).toHaveLength(0);
    });

    it('stops retrying when closed while disconnected, and clears the timers', async () => {
      const clock = new ManualClock();
      const client = makeClient({ addresses: [fakeAddress(1)], connect: refused(), clock, backoff: [100] });
      client.timers.set('flush', 10, () => undefined);
      await nextStatus(client, 'disconnected');
      await client.close();
      expect(clock.pending).toBe(0);
    });
  });

  describe('options', () => {
    it('refuses bad options with LW_ERR_BAD_OPTION naming the option', () => {
      const bad = (options: unknown, path: string): void => {
        try {
          new PermanentClient(options as PermanentClientOptions);
          expect.unreachable();
        } catch (err) {
          expect((err as LogwireError).code).toBe('LW_ERR_BAD_OPTION');
          expect((err as Error).message).toContain(path);
        }
      };
      bad({ addresses: [] }, 'addresses');
      bad({ addresses: ['tcp/x:1'] }, 'addresses[0]');
      bad({ addresses: [fakeAddress(1)], maxQueueBytes: 0 }, 'maxQueueBytes');
      bad({ addresses: [fakeAddress(1)], heartbeat: { idle: 1000 } }, 'heartbeat.timeout');
      bad({ addresses: [fakeAddress(1)], rateLimit: { bytes: 0, perMs: 100 } }, 'rateLimit.bytes');
      bad({ addresses: [fakeAddress(1)], backoff: [] }, 'backoff');
      bad({ addresses: [fakeAddress(1)], connectTimeout: -1 }, 'connectTimeout');
    });
  });
});
