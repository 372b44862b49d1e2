/**
 * Access control on real loopback sockets: tokens (lists; over tcp, udp and ndjson), connections
 * per peer, the ingest rate that holds a peer back without losing what it sent, and the rule
 * that a listener other hosts can reach needs an allow list. Refusals by address, which need a
 * peer with an address of its own, are in access-netns.test.ts.
 */

import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCollector } from '../../../collector/cli/collector-command.js';
import { loadConfig } from '../../../collector/config/config.js';
import { LogwireError } from '../../../shared/errors.js';
import { encodeMessageToBuffer } from '../../../shared/protocol/encode.js';
import { message } from '../../../shared/protocol/message.js';
import { inProcessCollector } from '../../helpers/in-process-collector.js';
import type { RawClient } from '../../helpers/raw-client.js';
import { eventsMessage, eventually, numbersIn, recordsBody } from '../../helpers/records.js';

const lab = inProcessCollector('lw-access-');

function register(c: RawClient, source: string, token?: string): void {
  const params = { version: 1, source, service: 'svc', host: 'h', next: 1 };
  c.send(message('REGISTER', token === undefined ? params : { ...params, token }));
}

function logFile(service: string): string {
  return join(lab.dir, 'logs', `${service}.log`);
}

async function fileText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

describe('listeners other hosts can reach', () => {
  it('refuse to load without an allow list, naming the listener and the fix', async () => {
    const err = await loadConfig({ flags: { listen: ['tcp/0.0.0.0:0'] } }, lab.dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogwireError);
    expect((err as Error).message).toMatch(
      /^--listen tcp\/0\.0\.0\.0:0: tcp\/0\.0\.0\.0:0 is reachable from other hosts.*allow = \["10\.0\.0\.0\/8"\].*--allow CIDR.*allow = \["any"\]/,
    );
    for (const listen of ['udp/*6:0', 'ndjson/0.0.0.0:4045', 'ws/192.0.2.1:80']) {
      await expect(loadConfig({ flags: { listen: [listen] } }, lab.dir)).rejects.toThrow(/no allow list/);
    }
    // Loopback and Unix sockets need none; --allow or "any" written out opens the others.
    await loadConfig({ flags: { listen: ['tcp/127.0.0.2:0', 'udp/[::1]:0', 'unix//tmp/lw.sock'] } }, lab.dir);
    await loadConfig({ flags: { listen: ['tcp/0.0.0.0:0'], allow: ['any'] } }, lab.dir);
    await loadConfig({ flags: { listen: ['tcp/0.0.0.0:0'], allow: ['10.0.0.0/8'] } }, lab.dir);
  });

  it('make `logwire collector` exit 1 with that message, before anything starts', async () => {
    let stderr = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        stderr += String(chunk);
        done();
      },
    });
    let started = false;
    const code = await runCollector(
      { listen: ['tcp/0.0.0.0:0'], output: join(lab.dir, 'logs') },
      {
        stderr: sink,
        cwd: lab.dir,
        start: async () => {
          started = true;
          throw new Error('not reached');
        },
      },
    );
    expect(code).toBe(1);
    expect(started).toBe(false);
    expect(stderr).toMatch(
      /logwire collector: --listen tcp\/0\.0\.0\.0:0: .* no allow list says who may connect/,
    );
  });

  it('take allow per listener in the file, and check each entry', async () => {
    const file = join(lab.dir, 'c.toml');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, '[[listen]]\naddress = "tcp/0.0.0.0:0"\nallow = ["10.0.0.0/8", "fd00::/8"]\n');
    const config = await loadConfig({ file, flags: {} }, lab.dir);
    expect(config.listeners[0]?.access?.allow).toEqual(['10.0.0.0/8', 'fd00::/8']);
    await writeFile(file, '[[listen]]\naddress = "tcp/0.0.0.0:0"\nallow = ["10.0.0.0/33"]\n');
    await expect(loadConfig({ file, flags: {} }, lab.dir)).rejects.toThrow(
      /allow: "10\.0\.0\.0\/33": the prefix length/,
    );
    await writeFile(file, 'token = ["a", ""]\n');
    await expect(loadConfig({ file, flags: {} }, lab.dir)).rejects.toThrow(
      /token must be a non-empty string or a list/,
    );
    await writeFile(file, 'rate_limit = 5\n');
    await expect(loadConfig({ file, flags: {} }, lab.dir)).rejects.toThrow(/rate_limit must be "BYTES\/MS"/);
  });
});

describe('tokens', () => {
  it('over tcp: refuses a wrong token and accepts any token of the list', async () => {
    const [port] = await lab.start({ token: ['old-secret', 'new-secret'] });
    const wrong = await lab.client(port!);
    register(wrong, 'wrong', 'guess');
    expect((await wrong.next((m) => m.command === 'UNAUTHORIZED')).params.reason).toBe('bad_token');
    await wrong.closedByPeer();
    const none = await lab.client(port!);
    register(none, 'none');
    expect((await none.next((m) => m.command === 'UNAUTHORIZED')).params.reason).toBe('bad_token');
    const good = await lab.client(port!);
    register(good, 'good', 'new-secret');
    await good.next((m) => m.command === 'READY');
    good.send(eventsMessage(1, 3));
    await good.next((m) => m.command === 'ACK' && m.params.seq === '3');
    expect(await numbersIn(logFile('svc'))).toEqual([1, 2, 3]);
  });

  it('over udp: drops a datagram without the right token, unanswered, and writes one with it', async () => {
    const [port] = await lab.start({ token: ['s3cret'] }, undefined, ['udp/127.0.0.1:0']);
    const socket = createSocket('udp4');
    const events = (seq: number, service: string, token?: string) =>
      encodeMessageToBuffer(
        message(
          'EVENTS',
          {
            seq,
            count: 2,
            source: `src-${service}`,
            service,
            host: 'h',
            ...(token === undefined ? {} : { token }),
          },
          recordsBody(seq, 2),
        ),
      );
    try {
      socket.send(events(1, 'wrong', 'nope'), port!, '127.0.0.1');
      socket.send(events(1, 'missing'), port!, '127.0.0.1');
      socket.send(events(1, 'right', 's3cret'), port!, '127.0.0.1');
      await eventually(async () => expect(await numbersIn(logFile('right'))).toEqual([1, 2]));
      const status = lab.collector.status();
      expect(status.refused_token).toBe(2);
      expect(await fileText(logFile('wrong'))).toBe('');
      expect(await fileText(logFile('missing'))).toBe('');
    } finally {
      socket.close();
    }
  });

  it('over ndjson: closes a connection whose first line is not an accepted token, writing nothing', async () => {
    const [port] = await lab.start({ token: ['s3cret'] }, undefined, ['ndjson/127.0.0.1:0']);
    const send = async (text: string): Promise<void> => {
      const socket = connect(port!, '127.0.0.1');
      socket.on('error', () => {});
      await once(socket, 'connect');
      socket.end(text);
      await once(socket, 'close');
    };
    await send('{"token":"nope"}\n{"n":1}\n{"n":2}\n');
    await send('{"n":3}\n{"n":4}\n');
    await send('{"token":"s3cret"}\n{"n":5}\n{"n":6}\n');
    await eventually(async () => expect(await numbersIn(logFile('ndjson'))).toEqual([5, 6]));
    expect(lab.collector.status().refused_token).toBe(2);
  });
});

describe('per peer and per connection', () => {
  it('refuses connections of one peer beyond max_connections_per_peer', async () => {
    const [port] = await lab.start({ maxConnectionsPerPeer: 2 });
    const first = await lab.client(port!);
    const second = await lab.client(port!);
    const third = await lab.client(port!);
    await third.closedByPeer();
    register(first, 'a');
    register(second, 'b');
    await first.next((m) => m.command === 'READY');
    await second.next((m) => m.command === 'READY');
    expect(lab.collector.status().refused_per_peer).toBe(1);
    // A place comes back when a connection ends.
    first.close();
    await eventually(async () => {
      const again = await lab.client(port!);
      register(again, 'c');
      await again.next((m) => m.command === 'READY', 1000);
    });
  });

  it('holds a peer over its rate_limit back and writes every record it sent', async () => {
    const [port] = await lab.start({ rateLimit: { bytes: 16 * 1024, perMs: 20 } }, undefined, [
      'ndjson/127.0.0.1:0',
    ]);
    const records = 4000;
    let text = '';
    for (let n = 1; n <= records; n++) text += `{"n":${n},"pad":"${'x'.repeat(100)}"}\n`;
    const socket = connect(port!, '127.0.0.1');
    await once(socket, 'connect');
    socket.end(text);
    await once(socket, 'close');
    await eventually(async () => expect((await numbersIn(logFile('ndjson'))).length).toBe(records), 30_000);
    const numbers = await numbersIn(logFile('ndjson'));
    expect(numbers).toEqual(Array.from({ length: records }, (_, i) => i + 1));
    // About 450 KB at 16 KiB per 20 ms: held back many times, and nothing was lost.
    expect(Number(lab.collector.status().rate_held)).toBeGreaterThan(0);
  });
});
