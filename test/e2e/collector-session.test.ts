/**
 * Black-box: the real `logwire collector` CLI, spoken to in raw PROTOCOL.md over sockets.
 */

import { mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { message } from '../../shared/protocol/message.js';
import { type CollectorProcess, killAllCollectors, startCollector } from '../helpers/collector-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventsMessage, eventually, numbersIn, recordsBody } from '../helpers/records.js';

let dir: string;
let collector: CollectorProcess;
const clients: RawClient[] = [];

async function client(): Promise<RawClient> {
  const c = await RawClient.connect({ port: collector.port('tcp') });
  clients.push(c);
  return c;
}

async function register(c: RawClient, source: string, next = 1, extra: Record<string, string | number> = {}) {
  c.send(message('REGISTER', { version: 1, source, service: 'svc', host: 'h1', next, ...extra }));
  return c.next((m) => m.command === 'READY' || m.command === 'INVALID' || m.command === 'UNAUTHORIZED');
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-e2e-'));
  collector = await startCollector(['--listen', 'tcp/127.0.0.1:0', '--output', join(dir, 'logs')], {
    cwd: dir,
    listeners: 1,
  });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killAllCollectors();
  await rm(dir, { recursive: true, force: true });
});

describe('collector sessions (PROTOCOL.md §4)', () => {
  it('prints the listening line with the real port', () => {
    expect(collector.addresses[0]).toMatch(/^tcp\/127\.0\.0\.1:\d+$/);
    expect(collector.port('tcp')).toBeGreaterThan(0);
  });

  it('answers REGISTER with READY last=0, writes a batch and acknowledges it', async () => {
    const c = await client();
    const ready = await register(c, 'src-a');
    expect(ready.command).toBe('READY');
    expect(ready.params.last).toBe('0');
    expect(Number(ready.params.max_body)).toBeGreaterThan(0);
    c.send(eventsMessage(1, 3));
    const ack = await c.next((m) => m.command === 'ACK');
    expect(ack.params.seq).toBe('3');
    expect(await numbersIn(join(dir, 'logs', 'svc.log'))).toEqual([1, 2, 3]);
  });

  it('opens the output with READY, before any EVENTS', async () => {
    const c = await client();
    await register(c, 'src-open');
    await eventually(async () => expect(await readFile(join(dir, 'logs', 'svc.log'), 'utf8')).toBe(''));
    c.send(eventsMessage(1, 2));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '2');
    expect(await numbersIn(join(dir, 'logs', 'svc.log'))).toEqual([1, 2]);
  });

  it('never writes a retransmission twice, and reports the mark to a new session', async () => {
    const c = await client();
    await register(c, 'src-b');
    c.send(eventsMessage(1, 5));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '5');
    c.close();
    const again = await client();
    const ready = await register(again, 'src-b', 8, { first: 3 });
    expect(ready.params.last).toBe('5');
    // A client that overlaps: resends 3..7 although the collector has up to 5.
    again.send(message('EVENTS', { seq: 3, count: 5 }, recordsBody(3, 5)));
    await again.next((m) => m.command === 'ACK' && m.params.seq === '7');
    expect(await numbersIn(join(dir, 'logs', 'svc.log'))).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('accepts a gap and counts it', async () => {
    const c = await client();
    await register(c, 'src-gap');
    c.send(eventsMessage(1, 2));
    c.send(eventsMessage(10, 1));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '10');
    c.send(message('STATUS'));
    const status = await c.next((m) => m.command === 'OK' && m.params.command === 'STATUS');
    expect(Number(status.params.gaps)).toBe(7);
  });

  it('counts no loss for records acknowledged by another collector (first − 1 > last)', async () => {
    const c = await client();
    const ready = await register(c, 'src-failover', 101, { first: 51 });
    expect(ready.params.last).toBe('0');
    c.send(eventsMessage(51, 50));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '100');
    c.send(message('STATUS'));
    const status = await c.next((m) => m.command === 'OK' && m.params.command === 'STATUS');
    expect(status.params.gaps).toBe('0');
    expect(await numbersIn(join(dir, 'logs', 'svc.log'))).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 51),
    );
  });

  it('refuses EVENTS before READY and closes', async () => {
    const c = await client();
    c.send(message('ALIVE', { serial: 1 }));
    await c.next((m) => m.command === 'ABSOLUTELY');
    c.send(eventsMessage(1, 1));
    const invalid = await c.next((m) => m.command === 'INVALID');
    expect({ ...invalid.params }).toEqual({ command: 'EVENTS', reason: 'not_registered' });
    await c.closedByPeer();
  });

  it('answers sequence_behind when the mark is at or above next', async () => {
    const c = await client();
    await register(c, 'src-c');
    c.send(eventsMessage(1, 4));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '4');
    const d = await client();
    const reply = await register(d, 'src-c', 2);
    expect({ ...reply.params }).toEqual({ command: 'REGISTER', reason: 'sequence_behind' });
    await d.closedByPeer();
    // Only a REGISTER answered READY ends the live session (§4.2): the first one goes on.
    c.send(eventsMessage(5, 1));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '5');
  });

  it('lets the newer session of a source win and closes the older one', async () => {
    const older = await client();
    await register(older, 'src-d');
    older.send(eventsMessage(1, 2));
    await older.next((m) => m.command === 'ACK');
    const newer = await client();
    const ready = await register(newer, 'src-d', 3);
    expect(ready.params.last).toBe('2');
    await older.closedByPeer();
  });

  it('refuses a REGISTER whose next is 0 (§3: numbers start at 1)', async () => {
    const c = await client();
    const reply = await register(c, 'zero', 0);
    expect(reply.command).toBe('INVALID');
    expect(reply.params.command).toBe('REGISTER');
    await c.closedByPeer();
  });

  it('refuses a REGISTER without a valid source', async () => {
    const c = await client();
    c.send(message('REGISTER', { version: 1, source: '../x', service: 'svc', host: 'h', next: 1 }));
    const reply = await c.next((m) => m.command === 'INVALID');
    expect(reply.params.command).toBe('REGISTER');
    await c.closedByPeer();
  });

  it('rejects records that fail the shape check into _rejected.log, and still acknowledges', async () => {
    const c = await client();
    await register(c, 'src-e');
    c.send(message('EVENTS', { seq: 1, count: 2 }, Buffer.from('{"n":1}\nnot json\n')));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '2');
    expect(await numbersIn(join(dir, 'logs', 'svc.log'))).toEqual([1]);
    const rejected = await readFile(join(dir, 'logs', '_rejected.log'), 'utf8');
    expect(JSON.parse(rejected)).toMatchObject({
      reason: 'not_an_object',
      source: 'src-e',
      record: 'not json',
    });
  });
});

describe('control commands (PROTOCOL.md §5)', () => {
  it('answers HELP, STATUS, ALIVE and UNKNOWN, and never answers a reply', async () => {
    const c = await client();
    c.send(message('HELP'));
    const help = await c.next((m) => m.command === 'COMMANDS');
    expect(help.params.list!.split(',')).toEqual(
      expect.arrayContaining(['LOG', 'STOP', 'STATUS', 'REGISTER']),
    );
    c.send(message('ACK', { seq: 1 }));
    c.send(message('FROBNICATE'));
    const unknown = await c.next((m) => m.command === 'UNKNOWN');
    expect(unknown.params.command).toBe('FROBNICATE');
    expect(c.received.filter((m) => m.command !== 'COMMANDS')).toHaveLength(1);
    c.send(message('STATUS'));
    const status = await c.next((m) => m.command === 'OK');
    expect(status.params.command).toBe('STATUS');
    expect(status.params.state).toBe('running');
  });

  it('reopens files on LOG and LOG_ROTATE', async () => {
    const logs = join(dir, 'logs');
    const c = await client();
    await register(c, 'src-rotate');
    c.send(eventsMessage(1, 3));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '3');
    const control = await client();
    let seq = 4;
    for (const command of ['LOG', 'LOG_ROTATE']) {
      // What logrotate does before it signals: move the file away.
      await rename(join(logs, 'svc.log'), join(logs, `svc.log.${command}`));
      control.send(message(command));
      await control.next((m) => m.command === 'OK' && m.params.command === command);
      c.send(eventsMessage(seq, 3));
      await c.next((m) => m.command === 'ACK' && m.params.seq === String(seq + 2));
      seq += 3;
    }
    expect(await numbersIn(join(logs, 'svc.log.LOG'))).toEqual([1, 2, 3]);
    expect(await numbersIn(join(logs, 'svc.log.LOG_ROTATE'))).toEqual([4, 5, 6]);
    expect(await numbersIn(join(logs, 'svc.log'))).toEqual([7, 8, 9]);
  });

  it('refuses RELOAD without a config file and keeps running', async () => {
    const c = await client();
    c.send(message('RELOAD'));
    const reply = await c.next((m) => m.params.command === 'RELOAD');
    expect(['OK', 'INVALID']).toContain(reply.command);
  });

  it('drains and exits 0 on STOP', async () => {
    const c = await client();
    await register(c, 'src-stop');
    c.send(eventsMessage(1, 100));
    c.send(message('STOP'));
    await c.next((m) => m.command === 'OK' && m.params.command === 'STOP');
    const exit = await collector.exited;
    expect(exit.code).toBe(0);
    expect(c.received.some((m) => m.command === 'ACK' && m.params.seq === '100')).toBe(true);
    expect(await numbersIn(join(dir, 'logs', 'svc.log'))).toHaveLength(100);
  });

  it('drains and exits 0 on SIGTERM', async () => {
    const exit = await collector.stop('SIGTERM');
    expect(exit.code).toBe(0);
  });
});

describe('bad input (PROTOCOL.md §6)', () => {
  it('closes at once on an HTTP request and stays up', async () => {
    const c = await client();
    c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.closedByPeer();
    const d = await client();
    d.send(message('ALIVE', { serial: 5 }));
    expect((await d.next((m) => m.command === 'ABSOLUTELY')).params.serial).toBe('5');
  });

  it('closes with INVALID too_large on an oversized line', async () => {
    const c = await client();
    c.write(`ALIVE serial=${'1'.repeat(70_000)}\n`);
    const invalid = await c.next((m) => m.command === 'INVALID');
    expect(invalid.params.reason).toBe('too_large');
    await c.closedByPeer();
  });

  it('answers INVALID to a bad line after the first, and closes on the tenth in a row', async () => {
    const c = await client();
    const invalids = () => c.received.filter((m) => m.command === 'INVALID').length;
    // Nine bad lines in a row: each answered, and the connection stays (a good line resets the run).
    c.write(`ALIVE serial=1\n${'bad\n'.repeat(9)}ALIVE serial=2\n`);
    await c.next((m) => m.command === 'ABSOLUTELY' && m.params.serial === '2');
    expect(invalids()).toBe(9);
    expect(c.closed).toBe(false);
    // Ten in a row: the tenth closes it, and nothing after it is read.
    c.write(`${'bad\n'.repeat(10)}ALIVE serial=3\n`);
    await c.closedByPeer();
    expect(invalids()).toBe(9 + 10);
    expect(c.received.filter((m) => m.command === 'ABSOLUTELY').map((m) => m.params.serial)).toEqual([
      '1',
      '2',
    ]);
  });

  it('closes on a bytes value that is not a plain number', async () => {
    const c = await client();
    c.write('ALIVE serial=1\nEVENTS seq=1;count=1;bytes=-3\n');
    const invalid = await c.next((m) => m.command === 'INVALID');
    expect(invalid.params.reason).toBe('bad_bytes');
    await c.closedByPeer();
  });

  it('puts a body that is not count lines whole into _rejected.log and acknowledges it', async () => {
    const c = await client();
    await register(c, 'src-bad');
    c.send(message('EVENTS', { seq: 1, count: 3 }, Buffer.from('{"n":1}\n{"n":2}\n')));
    await c.next((m) => m.command === 'ACK' && m.params.seq === '3');
    await eventually(async () => {
      const rejected = await readFile(join(dir, 'logs', '_rejected.log'), 'utf8');
      expect(rejected).toContain('too_few_lines');
    });
  });
});
