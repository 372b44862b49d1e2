/**
 * `/metrics` and `/health` of a running collector: the Prometheus text parsed back, its
 * counters equal to what the test sent and what was written; health turning 503 while the
 * output directory cannot be written (chattr +i, root on a filesystem that supports it) and
 * 200 again after.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCollector } from '../../../collector/collector.js';
import { loadConfig } from '../../../collector/config/config.js';
import type { Collector } from '../../../collector/config/config-types.js';
import { message } from '../../../shared/protocol/message.js';
import { RawClient } from '../../helpers/raw-client.js';
import { eventsMessage, recordsBody } from '../../helpers/records.js';

let dir = '';
let collector: Collector | undefined;
const clients: RawClient[] = [];
let immutable: string | undefined;

afterEach(async () => {
  if (immutable !== undefined) execFileSync('chattr', ['-i', immutable]);
  immutable = undefined;
  for (const c of clients.splice(0)) c.close();
  await collector?.stop('test');
  collector = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(forward?: readonly string[]): Promise<{ port: number; metrics: string }> {
  dir = await mkdtemp(join(tmpdir(), 'lw-metrics-'));
  const flags = { listen: ['tcp/127.0.0.1:0'], output: join(dir, 'logs'), metrics: '127.0.0.1:0' };
  const config = await loadConfig({ flags: { ...flags, ...(forward ? { forward } : {}) } }, dir);
  collector = await startCollector(config, { log: { info() {}, warn() {}, error() {}, trace() {} } });
  return {
    port: Number(collector.addresses[0]!.split(':').pop()),
    metrics: `http://${collector.metricsAddress}`,
  };
}

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The Prometheus text format: `# HELP`, `# TYPE`, then `name{label="v",…} value` lines. */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type !== null) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (sample === null) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!;
    }
    samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
  }
  return { samples, types };
}

function value(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

async function session(port: number, source: string, service: string): Promise<RawClient> {
  const c = await RawClient.connect({ port });
  clients.push(c);
  c.send(message('REGISTER', { version: 1, source, service, host: 'h', next: 1 }));
  await c.next((m) => m.command === 'READY');
  return c;
}

describe('/metrics', () => {
  it('counts, per service, what was sent, written, rejected, retransmitted and lost', async () => {
    const { port, metrics } = await start();
    const api = await session(port, 'a1', 'api');
    api.send(eventsMessage(1, 5));
    api.send(message('EVENTS', { seq: 6, count: 2 }, Buffer.from('not json\n{"n":7}\n')));
    api.send(eventsMessage(3, 5)); // 3..5 again (duplicates), then 6 and 7 are also behind the mark
    await api.next((m) => m.command === 'ACK' && m.params.seq === '7');
    const web = await session(port, 'w1', 'web');
    web.send(message('EVENTS', { seq: 4, count: 2 }, recordsBody(4, 2))); // 1..3 skipped: lost
    await web.next((m) => m.command === 'ACK' && m.params.seq === '5');

    const response = await fetch(`${metrics}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parsePrometheus(await response.text());
    expect(value(samples, 'logwire_records_received_total', { service: 'api' })).toBe(12);
    expect(value(samples, 'logwire_records_written_total', { service: 'api' })).toBe(6);
    expect(value(samples, 'logwire_records_rejected_total', { service: 'api' })).toBe(1);
    expect(value(samples, 'logwire_records_duplicate_total', { service: 'api' })).toBe(5);
    expect(value(samples, 'logwire_records_lost_total', { service: 'api' })).toBe(0);
    expect(value(samples, 'logwire_records_written_total', { service: 'web' })).toBe(2);
    expect(value(samples, 'logwire_records_lost_total', { service: 'web' })).toBe(3);
    expect(value(samples, 'logwire_sessions')).toBe(2);
    expect(value(samples, 'logwire_connections')).toBe(2);
    expect(value(samples, 'logwire_checkpoint_saves_total')).toBeGreaterThanOrEqual(2);
    expect(value(samples, 'logwire_write_tick_duration_seconds_count')).toBe(
      value(samples, 'logwire_checkpoint_saves_total'),
    );
    expect(value(samples, 'logwire_ack_latency_seconds_count')).toBe(4); // one per session batch
    expect(value(samples, 'logwire_received_bytes_total', { transport: 'tcp' })).toBeGreaterThan(0);
    expect(types.get('logwire_records_written_total')).toBe('counter');
    expect(types.get('logwire_sessions')).toBe('gauge');
    expect(types.get('logwire_ack_latency_seconds')).toBe('histogram');
    for (const name of types.keys()) expect(name).toMatch(/^logwire_/);
  });

  it('shows a forward output whose upstream is down: its spool, its waiting records, its state', async () => {
    // A port that was just free and is closed again: the upstream refuses every connection.
    const probe = await RawServerPort.closed();
    const { port, metrics } = await start([`tcp/127.0.0.1:${probe}`]);
    const api = await session(port, 'a1', 'api');
    api.send(eventsMessage(1, 5));
    await api.next((m) => m.command === 'ACK' && m.params.seq === '5');
    const scrape = async (): Promise<Sample[]> =>
      parsePrometheus(await (await fetch(`${metrics}/metrics`)).text()).samples;
    const samples = await scrape();
    const output = { output: 'forward' };
    expect(value(samples, 'logwire_forward_waiting_records', output)).toBe(5);
    expect(value(samples, 'logwire_forward_spool_bytes', output)).toBeGreaterThan(0);
    expect(value(samples, 'logwire_forward_sessions', output)).toBe(1);
    const states = samples.filter((s) => s.name === 'logwire_forward_state' && s.labels.output === 'forward');
    expect(states.filter((s) => s.value === 1)).toHaveLength(1);
    expect(['connecting', 'lost']).toContain(states.find((s) => s.value === 1)!.labels.state);
    // The file output beside it wrote every record all the same.
    expect(value(samples, 'logwire_records_written_total', { service: 'api' })).toBe(10);
  });

  it('has no forward series without a forward output', async () => {
    const { metrics } = await start();
    const { samples } = parsePrometheus(await (await fetch(`${metrics}/metrics`)).text());
    expect(samples.filter((s) => s.name.startsWith('logwire_forward_'))).toEqual([]);
  });

  it('counts reopens and reloads', async () => {
    const { port, metrics } = await start();
    const c = await RawClient.connect({ port });
    clients.push(c);
    c.send(message('LOG'));
    await c.next((m) => m.command === 'OK' && m.params.command === 'LOG');
    c.send(message('RELOAD'));
    // Started without a config source: RELOAD is refused, and counted so.
    await c.next((m) => m.command === 'INVALID' && m.params.command === 'RELOAD');
    const { samples } = parsePrometheus(await (await fetch(`${metrics}/metrics`)).text());
    expect(value(samples, 'logwire_reopens_total')).toBe(1);
    expect(value(samples, 'logwire_reloads_total', { outcome: 'refused' })).toBe(1);
  });
});

/** A loopback TCP port nobody listens on (bound at port 0, then closed). */
const RawServerPort = {
  async closed(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  },
};

/** Whether chattr +i works on a directory under tmpdir (root on ext4 and the like). */
function immutableProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'chattr +i needs root';
  const probe = mkdtempSync(join(tmpdir(), 'lw-chattr-'));
  try {
    execFileSync('chattr', ['+i', probe], { stdio: 'pipe' });
    execFileSync('chattr', ['-i', probe], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `chattr +i does not work here: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  } finally {
    rmdirSync(probe);
  }
}
const noChattr = immutableProblem();
if (noChattr !== undefined) console.warn(`metrics.test.ts /health test skipped: ${noChattr}`);

describe('/health', () => {
  it.skipIf(noChattr !== undefined)(
    'is 503 while the output directory cannot be written, 200 before and after',
    async () => {
      const { metrics } = await start();
      const before = await fetch(`${metrics}/health`);
      expect(before.status).toBe(200);
      expect(await before.text()).toBe('ok\n');
      immutable = join(dir, 'logs');
      execFileSync('chattr', ['+i', immutable]);
      const during = await fetch(`${metrics}/health`);
      expect(during.status).toBe(503);
      expect(await during.text()).toMatch(/logs is not writable \(EPERM\)/);
      execFileSync('chattr', ['-i', immutable]);
      immutable = undefined;
      expect((await fetch(`${metrics}/health`)).status).toBe(200);
      expect((await fetch(`${metrics}/nothing`)).status).toBe(404);
    },
  );
});
