/**
 * The forward output in the configuration: `--forward` / `forward` build the outputs list (alone,
 * or after the default file output when the output directory is named), `[[output]]` tables of
 * type forward, the environment, and the errors.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../collector/config/config.js';
import type { CollectorConfig, OutputConfig } from '../../../collector/config/config-types.js';
import { planReload } from '../../../collector/config/reload-plan.js';
import { formatAddress } from '../../../shared/protocol/address.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logwire-config-forward-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fromFile(text: string, flags = {}, env = {}): Promise<CollectorConfig> {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.toml`);
  await writeFile(file, text);
  return loadConfig({ file, flags, env }, dir);
}

function shape(outputs: readonly OutputConfig[]): string[] {
  return outputs.map((o) =>
    o.type === 'file'
      ? `file ${o.name} ${o.path}`
      : o.type === 'forward'
        ? `forward ${o.name} ${o.addresses.map(formatAddress).join(',')}${o.required ? '' : ' optional'}`
        : `jetstream ${o.name}`,
  );
}

describe('--forward and forward', () => {
  it('alone: the forward output replaces the default file output', async () => {
    const config = await loadConfig(
      { flags: { forward: ['tcp/127.0.0.1:5000', 'tcp/127.0.0.1:5001'] } },
      dir,
    );
    expect(shape(config.outputs)).toEqual(['forward forward tcp/127.0.0.1:5000,tcp/127.0.0.1:5001']);
  });

  it('with --output, or output in the file or the environment: files and forward', async () => {
    const flagged = await loadConfig(
      { flags: { forward: ['tcp/127.0.0.1:5000'], output: join(dir, 'logs') } },
      dir,
    );
    expect(shape(flagged.outputs)).toEqual([
      'file files {service}.log',
      'forward forward tcp/127.0.0.1:5000',
    ]);
    const filed = await fromFile('output = "logs"\npath = "{host}.log"\nforward = "tcp/127.0.0.1:5000"\n');
    expect(shape(filed.outputs)).toEqual(['file files {host}.log', 'forward forward tcp/127.0.0.1:5000']);
    const env = await fromFile(
      '',
      {},
      { LOGWIRE_FORWARD: 'tcp/127.0.0.1:5000,tcp/127.0.0.1:5001', LOGWIRE_OUTPUT: 'x' },
    );
    expect(shape(env.outputs)).toEqual([
      'file files {service}.log',
      'forward forward tcp/127.0.0.1:5000,tcp/127.0.0.1:5001',
    ]);
  });

  it('reads forward_window, forward_spool_max_bytes and forward_token, from the file or the environment', async () => {
    const config = await fromFile(
      'forward = ["tcp/127.0.0.1:5000"]\nforward_window = 4096\nforward_token = "t"\n',
      {},
      { LOGWIRE_FORWARD_SPOOL_MAX_BYTES: '65536' },
    );
    expect(config.outputs[0]).toMatchObject({
      window: 4096,
      spoolMaxBytes: 65536,
      token: 't',
      required: true,
    });
  });

  it('--forward replaces the file forward list', async () => {
    const config = await fromFile('forward = ["tcp/127.0.0.1:5000"]\n', { forward: ['tcp/127.0.0.1:6000'] });
    expect(shape(config.outputs)).toEqual(['forward forward tcp/127.0.0.1:6000']);
  });

  it('is added to [[output]] tables, and routes may name it', async () => {
    const config = await fromFile(
      '[[output]]\nname = "files"\npath = "{service}.log"\n' +
        '[[route]]\nmatch = { level = ">= error" }\nto = ["forward"]\ncontinue = true\n',
      { forward: ['tcp/127.0.0.1:5000'] },
    );
    expect(shape(config.outputs)).toEqual(['file files {service}.log', 'forward forward tcp/127.0.0.1:5000']);
    expect(config.routes.map((r) => r.to)).toEqual([['forward']]);
  });

  it('refuses a datagram scheme, and a table already named forward', async () => {
    await expect(loadConfig({ flags: { forward: ['udp/127.0.0.1:5000'] } }, dir)).rejects.toThrow(
      /--forward: udp cannot carry acknowledged batches/,
    );
    await expect(
      fromFile('[[output]]\nname = "forward"\npath = "f.log"\n', { forward: ['tcp/127.0.0.1:5000'] }),
    ).rejects.toThrow(/named "forward"/);
  });

  it('needs a restart to change', async () => {
    const before = await loadConfig({ flags: {} }, dir);
    const after = await loadConfig({ flags: { forward: ['tcp/127.0.0.1:5000'] } }, dir);
    expect(planReload(before, after)).toEqual({ kind: 'restart_needed', keys: ['output'] });
  });
});

describe('[[output]] type = "forward"', () => {
  it('takes addresses, window, spool_max_bytes, token, required and backlog', async () => {
    const config = await fromFile(
      '[[output]]\nname = "files"\npath = "{service}.log"\n' +
        '[[output]]\nname = "central"\ntype = "forward"\naddresses = ["tcp/127.0.0.1:5000"]\n' +
        'window = 2048\nspool_max_bytes = 1048576\ntoken = "up"\nrequired = false\nbacklog = 4096\n',
    );
    expect(shape(config.outputs)).toEqual([
      'file files {service}.log',
      'forward central tcp/127.0.0.1:5000 optional',
    ]);
    expect(config.outputs[1]).toMatchObject({
      window: 2048,
      spoolMaxBytes: 1048576,
      token: 'up',
      backlog: 4096,
    });
  });

  it('refuses a forward table without addresses, or with a file key', async () => {
    await expect(fromFile('[[output]]\nname = "up"\ntype = "forward"\n')).rejects.toThrow(
      /"up": addresses must name at least one upstream/,
    );
    await expect(
      fromFile(
        '[[output]]\nname = "up"\ntype = "forward"\naddresses = ["tcp/127.0.0.1:1"]\npath = "x.log"\n',
      ),
    ).rejects.toThrow(/path/);
  });
});
