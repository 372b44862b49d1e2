/** LOGWIRE_<KEY> settings: typed from text, over the file, under the flags, errors naming the variable. */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../collector/config/config.js';
import { formatAddress } from '../../../shared/protocol/address.js';

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logwire-config-env-'));
  file = join(dir, 'c.toml');
  await writeFile(file, 'output = "file-out"\nmax_line = 1000\ntrace = true\nformat = "text"\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const load = (env: Record<string, string>, flags = {}) => loadConfig({ file, flags, env }, dir);

describe('LOGWIRE_<KEY>', () => {
  it('overrides the file, key by key, in the type the key takes', async () => {
    const config = await load({
      LOGWIRE_OUTPUT: 'env-out',
      LOGWIRE_MAX_LINE: '2000',
      LOGWIRE_TRACE: 'false',
      LOGWIRE_LISTEN: 'tcp/127.0.0.1:5000, udp/127.0.0.1:5001',
      LOGWIRE_TOKEN: 's3cret',
      LOGWIRE_FILE_MODE: '0600',
    });
    expect(config.output).toBe(join(dir, 'env-out'));
    expect(config.maxLine).toBe(2000);
    expect(config.trace).toBe(false);
    expect(config.format).toBe('text'); // not in the environment: the file's
    expect(config.listeners.map((l) => formatAddress(l.address))).toEqual([
      'tcp/127.0.0.1:5000',
      'udp/127.0.0.1:5001',
    ]);
    expect(config.token).toEqual(['s3cret']);
    expect(config.fileMode).toBe(0o600);
  });

  it('is overridden by flags', async () => {
    const config = await load(
      { LOGWIRE_OUTPUT: 'env-out', LOGWIRE_LISTEN: 'tcp/127.0.0.1:5000' },
      { output: 'flag-out', listen: ['udp/127.0.0.1:6000'], trace: true },
    );
    expect(config.output).toBe(join(dir, 'flag-out'));
    expect(config.listeners.map((l) => formatAddress(l.address))).toEqual(['udp/127.0.0.1:6000']);
  });

  it('treats an empty variable as unset and leaves unrelated LOGWIRE_ variables alone', async () => {
    const config = await load({ LOGWIRE_OUTPUT: '', LOGWIRE_SKIP_PACK: '1' });
    expect(config.output).toBe(join(dir, 'file-out'));
  });

  it.each([
    [{ LOGWIRE_MAX_LINE: '12k' }, 'LOGWIRE_MAX_LINE: max_line must be a whole number of bytes'],
    [{ LOGWIRE_TRACE: 'yes' }, 'LOGWIRE_TRACE: trace must be true or false'],
    [{ LOGWIRE_DURABILITY: 'always' }, 'LOGWIRE_DURABILITY: durability must be one of "write", "fsync"'],
    [{ LOGWIRE_LISTEN: 'tcp/127.0.0.1:99999' }, 'LOGWIRE_LISTEN: listen[0]'],
    [{ LOGWIRE_MAXLINE: '10' }, 'LOGWIRE_MAXLINE is not a setting; did you mean LOGWIRE_MAX_LINE?'],
  ])('refuses %j naming the variable', async (env, text) => {
    await expect(load(env)).rejects.toThrow(text);
  });
});

describe('LOGWIRE_<KEY> beside [[output]] and [[route]] tables', () => {
  let tables: string;
  beforeAll(async () => {
    tables = join(dir, 'tables.toml');
    await writeFile(
      tables,
      'output_dir = "file-dir"\n[[output]]\nname = "all"\npath = "{service}.log"\n[[route]]\nto = ["all"]\n',
    );
  });
  const loadTables = (env: Record<string, string>) => loadConfig({ file: tables, flags: {}, env }, dir);

  it("sets the outputs' directory with LOGWIRE_OUTPUT_DIR; the tables stay the file's", async () => {
    const config = await loadTables({ LOGWIRE_OUTPUT_DIR: 'env-dir' });
    expect(config.output).toBe(join(dir, 'env-dir'));
    expect(config.outputs.map((o) => o.name)).toEqual(['all']);
    expect(config.routes).toEqual([{ to: ['all'], continue: false }]);
  });

  it('refuses LOGWIRE_ROUTE, and LOGWIRE_OUTPUT over [[output]] tables, naming the variable', async () => {
    await expect(loadTables({ LOGWIRE_ROUTE: 'all' })).rejects.toThrow(
      'environment variable LOGWIRE_ROUTE cannot be set: [[route]] tables come from the configuration file only',
    );
    await expect(loadTables({ LOGWIRE_OUTPUT: 'x' })).rejects.toThrow(
      "LOGWIRE_OUTPUT: the file's [[output]] tables name the outputs; set LOGWIRE_OUTPUT_DIR",
    );
    await expect(load({ LOGWIRE_OUTPUT_DIR: 'x' })).rejects.toThrow(
      'LOGWIRE_OUTPUT_DIR: output_dir goes with [[output]] tables',
    );
  });
});
