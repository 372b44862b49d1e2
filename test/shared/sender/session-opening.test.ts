import { afterEach, describe, expect, it } from 'vitest';
import { Timers } from '../../../shared/net/timers.js';
import { type Message, message } from '../../../shared/protocol/message.js';
import { ServiceGate } from '../../../shared/sender/service-gate.js';
import { openSession, type SessionOpening } from '../../../shared/sender/session-opening.js';
import { SourceRenewal } from '../../../shared/sender/source-renewal.js';
import { LoopbackPeer } from '../../helpers/loopback-peer.js';
import { MessengerClient } from '../../helpers/messenger-client.js';

/** openSession over a real loopback link, against a peer that answers REGISTER as told. */
describe('openSession (PROTOCOL.md §4.1–2)', () => {
  let peer: LoopbackPeer | undefined;
  let client: MessengerClient | undefined;
  const timers = new Timers();

  afterEach(async () => {
    timers.clearAll();
    client?.messenger.destroy();
    await peer?.stop();
    peer = client = undefined;
  });

  async function link(answer: (register: Message) => Message): Promise<MessengerClient> {
    peer = await LoopbackPeer.start(0, (msg, conn) => {
      if (msg.command === 'REGISTER') conn.messenger.send(answer(msg));
    });
    client = await MessengerClient.connect(`tcp/127.0.0.1:${peer.port}`);
    return client;
  }

  function opening(overrides: Partial<SessionOpening> = {}): SessionOpening & { refusals: string[] } {
    const refusals: string[] = [];
    const service = new ServiceGate();
    service.open('billing');
    return {
      service,
      sourceId: new SourceRenewal('src-1', async () => 'src-2'),
      store: { nextSeq: 11, firstSeq: 5 },
      host: 'web-1',
      registerTimeout: 5000,
      timers,
      refused: (refusal) => refusals.push(refusal),
      refusals,
      ...overrides,
    };
  }

  it('sends REGISTER with next and first, and returns READY last and max_body', async () => {
    const { messenger } = await link(() => message('READY', { version: 1, last: 7, max_body: 1024 }));
    const open = opening({ pid: 42, token: 's3cret' });
    await expect(openSession(messenger, open, new AbortController().signal)).resolves.toEqual({
      last: 7,
      maxBody: 1024,
    });
    expect(peer!.messages[0]!.params).toMatchObject({
      version: '1',
      source: 'src-1',
      service: 'billing',
      host: 'web-1',
      next: '11',
      first: '5',
      pid: '42',
      token: 's3cret',
    });
  });

  it('waits for the service name before REGISTER', async () => {
    const { messenger } = await link(() => message('READY', { version: 1, last: 0 }));
    const service = new ServiceGate();
    const opened = openSession(messenger, opening({ service }), new AbortController().signal);
    expect(peer!.messages).toHaveLength(0);
    service.open('late-name');
    await expect(opened).resolves.toEqual({ last: 0, maxBody: undefined });
    expect(peer!.messages[0]!.params.service).toBe('late-name');
  });

  it('renews the source id on sequence_behind, and throws without counting a refusal', async () => {
    const { messenger } = await link(() =>
      message('INVALID', { command: 'REGISTER', reason: 'sequence_behind' }),
    );
    const open = opening();
    await expect(openSession(messenger, open, new AbortController().signal)).rejects.toThrow(
      /sequence_behind/,
    );
    await open.sourceId.pending;
    expect(open.sourceId.source).toBe('src-2');
    expect(open.refusals).toEqual([]);
  });

  it('renews the source id when READY last is at or above next (never resends into it)', async () => {
    const { messenger } = await link(() => message('READY', { version: 1, last: 11 }));
    const open = opening();
    await expect(openSession(messenger, open, new AbortController().signal)).rejects.toThrow(/last ≥ next/);
    await open.sourceId.pending;
    expect(open.sourceId.source).toBe('src-2');
  });

  it('reports any other refusal, and throws', async () => {
    const { messenger } = await link(() => message('UNAUTHORIZED', { reason: 'bad_token' }));
    const open = opening();
    await expect(openSession(messenger, open, new AbortController().signal)).rejects.toThrow(
      /UNAUTHORIZED reason=bad_token/,
    );
    expect(open.refusals).toEqual(['UNAUTHORIZED reason=bad_token']);
    expect(open.sourceId.source).toBe('src-1');
  });

  it('rejects with the abort reason while it waits for the name', async () => {
    const { messenger } = await link(() => message('READY', { version: 1, last: 0 }));
    const abort = new AbortController();
    const opened = openSession(messenger, opening({ service: new ServiceGate() }), abort.signal);
    abort.abort(new Error('closing'));
    await expect(opened).rejects.toThrow('closing');
    expect(peer!.messages).toHaveLength(0);
  });
});
