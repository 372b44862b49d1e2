/**
 * Refusal by address needs a peer whose address is not loopback (every 127.0.0.0/8 address is):
 * this test makes a network namespace joined to the host by a veth pair (10.231.N.1 here,
 * 10.231.N.2 there), runs the collector on the host side with an allow list holding only the
 * host's own address, and sends from inside the namespace over tcp, udp and ndjson. Needs root
 * and iproute2; skipped, saying why, otherwise.
 */

import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startCollector } from '../../../collector/collector.js';
import { loadConfig } from '../../../collector/config/config.js';
import type { Collector } from '../../../collector/config/config-types.js';
import { encodeMessageToBuffer } from '../../../shared/protocol/encode.js';
import { message } from '../../../shared/protocol/message.js';
import { RawClient } from '../../helpers/raw-client.js';
import { eventsMessage, eventually, numbersIn } from '../../helpers/records.js';

const id = process.pid % 250;
const NS = `lw-acc-${process.pid}`;
const HOST_IF = `lwh${process.pid}`.slice(0, 15);
const NS_IF = `lwn${process.pid}`.slice(0, 15);
const HOST_IP = `10.231.${id}.1`;
const NS_IP = `10.231.${id}.2`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** Why the namespace cannot be made here, or undefined when it can. */
function netnsProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace';
  try {
    ip('netns', 'add', NS);
  } catch (error) {
    return `ip netns add failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
  try {
    ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF);
    ip('link', 'set', NS_IF, 'netns', NS);
    ip('addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF);
    ip('link', 'set', HOST_IF, 'up');
    ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${NS_IP}/24`, 'dev', NS_IF);
    ip('netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'up');
    ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
    return undefined;
  } catch (error) {
    return `setting up the veth pair failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
}

const problem = netnsProblem();
if (problem !== undefined) console.warn(`access-netns.test.ts skipped: ${problem}`);

/**
 * Runs a small Node script inside the namespace: it sends `payload` over `scheme` to the
 * collector and prints what came back ("closed" or "data") once the socket ends.
 */
async function sendFromNamespace(scheme: 'tcp' | 'udp', port: number, payload: Buffer): Promise<string> {
  const script = `
    const net = require('node:net'), dgram = require('node:dgram');
    const payload = Buffer.from(process.argv[1], 'base64');
    if (process.argv[2] === 'udp') {
      const s = dgram.createSocket('udp4');
      s.send(payload, ${port}, '${HOST_IP}', () => { s.close(); console.log('sent'); });
    } else {
      let got = '';
      const s = net.connect(${port}, '${HOST_IP}', () => s.write(payload));
      s.on('data', (d) => { got += d; });
      s.on('error', () => {});
      s.on('close', () => console.log(got === '' ? 'closed' : 'data:' + got));
      setTimeout(() => { console.log('still open'); process.exit(0); }, 10000).unref();
    }`;
  const child = spawn(
    'ip',
    ['netns', 'exec', NS, process.execPath, '-e', script, payload.toString('base64'), scheme],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d) => {
    out += String(d);
  });
  await once(child, 'exit');
  return out.trim();
}

describe.skipIf(problem !== undefined)('allow lists, from a peer with its own address', () => {
  let dir = '';
  let collector: Collector | undefined;
  afterEach(async () => {
    await collector?.stop('test');
    await rm(dir, { recursive: true, force: true });
  });
  afterAll(() => {
    ip('netns', 'del', NS); // takes the veth pair with it
  });

  it('refuses a peer outside the list over tcp, udp and ndjson, and writes nothing it sent', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lw-netns-'));
    const listen = [`tcp/${HOST_IP}:0`, `udp/${HOST_IP}:0`, `ndjson/${HOST_IP}:0`];
    const config = await loadConfig(
      { flags: { listen, output: join(dir, 'logs'), allow: [`${HOST_IP}/32`] } },
      dir,
    );
    const quiet = { info() {}, warn() {}, error() {}, trace() {} };
    collector = await startCollector(config, { log: quiet });
    const running = collector;
    const [tcp, udp, ndjson] = collector.addresses.map((a) => Number(a.split(':').pop()));
    const register = message('REGISTER', {
      version: 1,
      source: 'outside',
      service: 'outside',
      host: 'h',
      next: 1,
    });
    const stream = Buffer.concat([
      encodeMessageToBuffer(register),
      encodeMessageToBuffer(eventsMessage(1, 3)),
    ]);
    expect(await sendFromNamespace('tcp', tcp!, stream)).toBe('closed');
    const datagram = encodeMessageToBuffer(
      message(
        'EVENTS',
        { ...eventsMessage(1, 3).params, source: 'outside', service: 'outside', host: 'h' },
        eventsMessage(1, 3).body,
      ),
    );
    expect(await sendFromNamespace('udp', udp!, datagram)).toBe('sent');
    expect(await sendFromNamespace('tcp', ndjson!, Buffer.from('{"n":1}\n{"n":2}\n'))).toBe('closed');
    await eventually(() => expect(running.status().refused_address).toBe(3));

    // The host's own address is on the list: the same listeners take its records.
    const inside = await RawClient.connect({ port: tcp!, host: HOST_IP });
    inside.send(message('REGISTER', { version: 1, source: 'inside', service: 'inside', host: 'h', next: 1 }));
    await inside.next((m) => m.command === 'READY');
    inside.send(eventsMessage(1, 3));
    await inside.next((m) => m.command === 'ACK' && m.params.seq === '3');
    inside.close();
    const nd = connect(ndjson!, HOST_IP);
    await once(nd, 'connect');
    nd.end('{"n":7}\n');
    await once(nd, 'close');
    await eventually(async () => expect(await numbersIn(join(dir, 'logs', 'ndjson.log'))).toEqual([7]));
    expect(await numbersIn(join(dir, 'logs', 'inside.log'))).toEqual([1, 2, 3]);
    await expect(readFile(join(dir, 'logs', 'outside.log'))).rejects.toThrow(/ENOENT/);
    expect(running.status().refused_address).toBe(3);
  });
});
