/**
 * A forward output among `[[output]]` tables, routed by level: the batches routing splits reach
 * it as copies of some of their records, which the relay numbers under its own source, so the
 * upstream gets each routed record once, retransmissions included; the file output beside it
 * gets every record once.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startCollector } from '../../../../collector/collector.js';
import { loadConfig } from '../../../../collector/config/config.js';
import type { Collector, CollectorLog } from '../../../../collector/config/config-types.js';
import { message } from '../../../../shared/protocol/message.js';
import { RawClient } from '../../../helpers/raw-client.js';
import { eventually, numbersIn } from '../../../helpers/records.js';

const quiet: CollectorLog = { info() {}, warn() {}, error() {}, trace() {} };
let dir: string;
const running: Collector[] = [];
const clients: RawClient[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-forward-routing-'));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const collector of running.splice(0).reverse()) await collector.stop('test');
  await rm(dir, { recursive: true, force: true });
});

async function start(file: string | undefined, flags: Record<string, unknown>): Promise<Collector> {
  const config = await loadConfig({ ...(file === undefined ? {} : { file }), flags }, dir);
  const collector = await startCollector(config, { log: quiet });
  running.push(collector);
  return collector;
}

/** Records numbered `from`…, each with its pino level. */
function body(from: number, levels: readonly number[]): Buffer {
  return Buffer.from(levels.map((level, i) => `{"level":${level},"n":${from + i}}\n`).join(''));
}

it('sends the error records upstream once, split batches and retransmissions included', async () => {
  const upstream = await start(undefined, { listen: ['tcp/127.0.0.1:0'], output: join(dir, 'b') });
  const file = join(dir, 'a.toml');
  await writeFile(
    file,
    `output_dir = "${join(dir, 'a')}"\n` +
      '[[output]]\nname = "files"\npath = "{service}.log"\n' +
      `[[output]]\nname = "central"\ntype = "forward"\naddresses = ["${upstream.addresses[0]}"]\n` +
      '[[route]]\nmatch = { level = ">= error" }\nto = ["central"]\ncontinue = true\n' +
      '[[route]]\nto = ["files"]\n',
  );
  const relay = await start(file, { listen: ['tcp/127.0.0.1:0'] });
  const client = await RawClient.connect({ port: Number(relay.addresses[0]!.split(':').pop()) });
  clients.push(client);
  client.send(message('REGISTER', { version: 1, source: 's1', service: 'api', host: 'h', next: 1 }));
  await client.next((m) => m.command === 'READY');
  client.send(message('EVENTS', { seq: 1, count: 4 }, body(1, [30, 50, 30, 60])));
  await client.next((m) => m.command === 'ACK' && m.params.seq === '4');
  // 1…4 again with 5 and 6: only 5 and 6 are new, and of them only 5 goes upstream.
  client.send(message('EVENTS', { seq: 1, count: 6 }, body(1, [30, 50, 30, 60, 50, 40])));
  await client.next((m) => m.command === 'ACK' && m.params.seq === '6');

  expect(await numbersIn(join(dir, 'a', 'api.log'))).toEqual([1, 2, 3, 4, 5, 6]);
  await eventually(async () => expect(await numbersIn(join(dir, 'b', 'api.log'))).toEqual([2, 4, 5]));
  await eventually(() => expect(relay.status().forward_waiting).toBe(0));
  expect(relay.status()).toMatchObject({ output_central_written: 3, output_files_written: 6 });
});
