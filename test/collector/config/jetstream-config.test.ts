import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../collector/config/config.js';
import { configuredOutputs } from '../../../collector/config/config-outputs.js';

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

describe('the JetStream output among the outputs', () => {
  const JS = ['nats://127.0.0.1:4222'];
  const names = (config: Parameters<typeof configuredOutputs>[0]) =>
    configuredOutputs(config).map((out) => `${out.name}:${out.type}:${out.required}`);

  it('--jetstream alone replaces the default file output', async () => {
    const config = await loadConfig({ flags: { jetstream: JS } }, dir);
    expect(names(config)).toEqual(['jetstream:jetstream:true']);
  });

  it('--jetstream with --output (or output in the file or environment) writes the files as well', async () => {
    const byFlag = await loadConfig({ flags: { jetstream: JS, output: './logs' } }, dir);
    expect(names(byFlag)).toEqual(['files:file:true', 'jetstream:jetstream:true']);
    const byFile = await fromFile(`output = "./out"\n[jetstream]\nservers = ["${JS[0]}"]\n`);
    expect(names(byFile)).toEqual(['files:file:true', 'jetstream:jetstream:true']);
    const byEnv = await loadConfig({ flags: { jetstream: JS }, env: { LOGWIRE_OUTPUT: './out' } }, dir);
    expect(names(byEnv)).toEqual(['files:file:true', 'jetstream:jetstream:true']);
    expect(names(await loadConfig({ flags: {} }, dir))).toEqual(['files:file:true']);
  });

  it('--forward and --jetstream together make both outputs, files first when the directory is named', async () => {
    const forward = ['tcp/127.0.0.1:5000'];
    const both = await loadConfig({ flags: { jetstream: JS, forward } }, dir);
    expect(names(both)).toEqual(['forward:forward:true', 'jetstream:jetstream:true']);
    const all = await loadConfig({ flags: { jetstream: JS, forward, output: './logs' } }, dir);
    expect(names(all)).toEqual(['files:file:true', 'forward:forward:true', 'jetstream:jetstream:true']);
    const tables = await fromFile(
      `[[output]]\nname = "relay"\ntype = "forward"\naddresses = ["${forward[0]}"]\n` +
        `[[output]]\nname = "stream"\ntype = "jetstream"\nrequired = false\n`,
      { jetstream: JS },
    );
    expect(names(tables)).toEqual(['relay:forward:true', 'stream:jetstream:false']);
  });

  it('[[output]] type = "jetstream" is one of the tables, optional or required, and routes may name it', async () => {
    const config = await fromFile(
      `[[output]]\nname = "files"\npath = "{service}.log"\n` +
        `[[output]]\nname = "stream"\ntype = "jetstream"\nrequired = false\nbacklog = 1024\n` +
        `[[route]]\nmatch = { service = "audit" }\nto = ["stream"]\n` +
        `[jetstream]\nservers = ["${JS[0]}"]\n`,
    );
    expect(names(config)).toEqual(['files:file:true', 'stream:jetstream:false']);
    expect(config.outputs[1]).toEqual({ type: 'jetstream', name: 'stream', required: false, backlog: 1024 });
    expect(config.routes[0]?.to).toEqual(['stream']);
  });

  it('refuses a jetstream output without servers, tables without one beside [jetstream], and what it cannot do', async () => {
    await expect(fromFile('[[output]]\nname = "js"\ntype = "jetstream"\n')).rejects.toThrow(
      /\[\[output\]\] "js" has type = "jetstream": name the servers in \[jetstream\]/,
    );
    await expect(
      fromFile(`[[output]]\nname = "files"\npath = "a.log"\n[jetstream]\nservers = ["${JS[0]}"]\n`),
    ).rejects.toThrow(
      /no \[\[output\]\] publishes there: add \[\[output\]\] name = "jetstream" type = "jetstream"/,
    );
    await expect(
      fromFile('[[output]]\nname = "js"\ntype = "jetstream"\npath = "a.log"\n', { jetstream: JS }),
    ).rejects.toThrow(/"js": path is for file outputs/);
    await expect(
      fromFile('[[output]]\nname = "a"\ntype = "jetstream"\n[[output]]\nname = "b"\ntype = "jetstream"\n', {
        jetstream: JS,
      }),
    ).rejects.toThrow(/"b" and "a" both publish to the \[jetstream\] stream/);
    await expect(
      fromFile(
        '[[route]]\nmatch = { level = ">= warn" }\nto = ["jetstream"]\n[[route]]\nto = ["jetstream"]\n',
        {
          jetstream: JS,
        },
      ),
    ).rejects.toThrow(/match.level cannot be used with the jetstream output "jetstream"/);
  });

  it('are tables: the environment cannot set them', async () => {
    await expect(
      loadConfig({ flags: {}, env: { LOGWIRE_JETSTREAM: 'nats://127.0.0.1:4222' } }, dir),
    ).rejects.toThrow(
      'environment variable LOGWIRE_JETSTREAM cannot be set: [jetstream] tables come from the configuration file only',
    );
    await expect(loadConfig({ flags: {}, env: { LOGWIRE_FROM_JETSTREAM: 'x' } }, dir)).rejects.toThrow(
      /LOGWIRE_FROM_JETSTREAM cannot be set/,
    );
  });
});
