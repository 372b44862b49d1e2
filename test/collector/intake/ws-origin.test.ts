/**
 * A web page cannot write records (docs/protocol.md §8): a WebSocket upgrade carrying an
 * `Origin` header is refused with HTTP 403 unless the listener allows that origin or the
 * collector requires a token, which the page must then present in REGISTER.
 */

import { afterEach, describe, expect, it } from 'vitest';
import type { CollectorConfig } from '../../../collector/config/config-types.js';
import { normalizeOrigin, originPolicy } from '../../../collector/intake/origin-policy.js';
import { parseAddress } from '../../../shared/protocol/address.js';
import { message } from '../../../shared/protocol/message.js';
import { inProcessCollector } from '../../helpers/in-process-collector.js';
import { MessengerClient } from '../../helpers/messenger-client.js';
import { eventsMessage } from '../../helpers/records.js';

const lab = inProcessCollector('lw-ws-origin-');
const clients: MessengerClient[] = [];

async function start(overrides: Partial<CollectorConfig> = {}, allowOrigins?: string[]): Promise<string> {
  const listeners = [
    {
      address: parseAddress('ws/127.0.0.1:0/logs'),
      service: 'ndjson',
      ...(allowOrigins === undefined ? {} : { allowOrigins }),
    },
  ];
  await lab.start({ ...overrides, listeners }, undefined, ['ws/127.0.0.1:0/logs']);
  return lab.collector.addresses[0]!;
}

async function client(address: string, origin?: string): Promise<MessengerClient> {
  const c = await MessengerClient.connect(
    address,
    origin === undefined ? {} : { ws: { headers: { Origin: origin } } },
  );
  clients.push(c);
  return c;
}

function register(c: MessengerClient, source: string, token?: string): void {
  c.send(
    message('REGISTER', {
      version: 1,
      source,
      service: 'web',
      host: 'h',
      next: 1,
      ...(token === undefined ? {} : { token }),
    }),
  );
}

describe('WebSocket upgrades with an Origin header', () => {
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  it('refuses a web page with HTTP 403, and still serves a client without Origin', async () => {
    const address = await start();
    await expect(client(address, 'http://evil.example')).rejects.toThrow(/403/);
    const plain = await client(address);
    register(plain, 'plain');
    await plain.next((m) => m.command === 'READY');
  });

  it('accepts an origin the listener allows', async () => {
    const address = await start({}, ['https://app.example']);
    await expect(client(address, 'https://other.example')).rejects.toThrow(/403/);
    const page = await client(address, 'https://app.example');
    register(page, 'page');
    await page.next((m) => m.command === 'READY');
    page.send(eventsMessage(1, 2));
    await page.next((m) => m.command === 'ACK' && m.params.seq === '2');
  });

  it('lets a page that is not allowed in only with the token', async () => {
    const address = await start({ token: 't0ken' });
    const without = await client(address, 'http://evil.example');
    register(without, 'forged');
    expect((await without.next((m) => m.command === 'UNAUTHORIZED')).params.reason).toBe('bad_token');
    await without.closedByPeer();
    const withToken = await client(address, 'http://evil.example');
    register(withToken, 'known', 't0ken');
    await withToken.next((m) => m.command === 'READY');
  });
});

describe('originPolicy', () => {
  it('compares origins as browsers send them, and lets any through when a token is required', () => {
    let token: string | undefined;
    const accept = originPolicy(
      () => ['https://app.example'],
      () => token,
    );
    expect(accept('https://app.example')).toBe(true);
    expect(accept('HTTPS://APP.example:443')).toBe(true);
    expect(accept('https://app.example.evil')).toBe(false);
    expect(accept('null')).toBe(false);
    expect(normalizeOrigin('file:///x')).toBeUndefined();
    token = 't';
    expect(accept('http://evil.example')).toBe(true);
  });
});
