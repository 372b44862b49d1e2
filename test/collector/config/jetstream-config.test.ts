import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../collector/config/config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-js-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fromFile(text: string, flags = {}) {
  const file = join(dir, 'c.toml');
  await writeFile(file, text);
  return loadConfig({ file, flags }, dir);
}

describe('[jetstream] and [from_jetstream]', () => {
  it('are off without servers', async () => {
    const config = await loadConfig({ flags: {} }, dir);
    expect(config.jetstream).toBeUndefined();
    expect(config.fromJetstream).toBeUndefined();
  });

  it('--jetstream gives the defaults of INTERFACES.md', async () => {
    const config = await loadConfig(
      { flags: { jetstream: ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223'] } },
      dir,
    );
    expect(config.jetstream).toEqual({
      servers: ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223'],
      stream: 'LOGWIRE',
      subjectPrefix: 'logwire',
      replicas: 3,
      duplicateWindow: 120_000,
      maxAge: 0,
      maxBytes: 0,
    });
  });

  it('reads the tables, flags over them', async () => {
    const config = await fromFile(
      '[jetstream]\nservers = ["nats://a:4222"]\nstream = "S1"\nsubject_prefix = "logs.app"\nreplicas = 1\nduplicate_window = 600000\n' +
        '[from_jetstream]\nservers = ["nats://b:4222"]\nconsumer = "c1"\n',
      { consumer: 'c2' },
    );
    expect(config.jetstream).toMatchObject({
      servers: ['nats://a:4222'],
      stream: 'S1',
      subjectPrefix: 'logs.app',
    });
    expect(config.jetstream?.duplicateWindow).toBe(600_000);
    expect(config.fromJetstream).toEqual({ servers: ['nats://b:4222'], stream: 'LOGWIRE', consumer: 'c2' });
  });

  it('names the key of a bad value', async () => {
    await expect(fromFile('[jetstream]\nservers = ["nats://a:4222"]\nreplicas = 7\n')).rejects.toThrow(
      /\[jetstream\] replicas must be a whole number from 1 to 5 \(got 7\)/,
    );
    await expect(fromFile('[jetstream]\nservers = ["nats://a:4222"]\nreplica = 3\n')).rejects.toThrow(
      /unknown key "replica"; did you mean "replicas"/,
    );
    await expect(loadConfig({ flags: { jetstream: ['http://x'] } }, dir)).rejects.toThrow(
      /--jetstream must be a NATS server URL/,
    );
    await expect(loadConfig({ flags: { consumer: 'c' } }, dir)).rejects.toThrow(
      /--consumer needs --from-jetstream/,
    );
  });
});
