/**
 * examples/: the fully commented collector.toml names every configuration key and loads with
 * the real loader (commented and uncommented); the systemd units pass `systemd-analyze verify`
 * (when installed) and their ExecStart/ExecReload name real logwire subcommands and flags.
 */

import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, TOP_KEYS } from '../../collector/config/config.js';
import { LISTEN_KEYS } from '../../collector/config/config-listeners.js';
import { PROTOCOL_COMMANDS } from '../../shared/protocol/definitions.js';
import { LOGWIRE_BIN } from '../helpers/collector-process.js';

const run = promisify(execFile);
/** Keys that go with [[output]] tables, and the JetStream tables: the example shows them in sections of their own. */
const TABLE_SETTINGS = ['output_dir', 'route', 'jetstream', 'from_jetstream'];
const EXAMPLES = resolve(import.meta.dirname, '..', '..', 'examples');
const INSTALLED_BIN = '/usr/local/bin/logwire';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-kit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('examples/collector.toml', () => {
  const file = join(EXAMPLES, 'collector.toml');

  it('names every top-level and [[listen]] key, commented or not', async () => {
    const text = await readFile(file, 'utf8');
    const written = new Set(
      [...text.matchAll(/^#?\s*(?:([a-z_]+)\s*=|\[\[?([a-z_]+)\]\]?)/gm)].map((m) => m[1] ?? m[2]),
    );
    const missing = [...TOP_KEYS, ...LISTEN_KEYS].filter((key) => !written.has(key));
    expect(missing).toEqual([]);
  });

  it('loads with the real loader as shipped (all defaults)', async () => {
    const config = await loadConfig({ file, flags: {} }, dir);
    expect(config.output).toBe(join(dir, 'logs'));
    expect(config.listeners).toHaveLength(2);
  });

  it('loads with every top-level setting uncommented, each to the value shown', async () => {
    const text = await readFile(file, 'utf8');
    const head = text.slice(0, text.indexOf('# listen = ['));
    const settings = [...head.matchAll(/^# ([a-z_]+ = .+)$/gm)].map((m) => m[1]!);
    // listen, and what goes with [[output]] tables, have sections of their own further down.
    expect(settings.map((line) => line.split(' ')[0]).sort()).toEqual(
      TOP_KEYS.filter((key) => !['listen', ...TABLE_SETTINGS].includes(key)).sort(),
    );
    const uncommented = join(dir, 'uncommented.toml');
    await writeFile(uncommented, `${settings.join('\n')}\nlisten = ["tcp/127.0.0.1:4043"]\n`);
    const config = await loadConfig({ file: uncommented, flags: {} }, dir);
    expect(config.state).toBe('/var/lib/logwire');
    expect(config.secretCode).toBe('change-me');
  });

  it('loads with its [jetstream] and [from_jetstream] example uncommented', async () => {
    const text = await readFile(file, 'utf8');
    const section = text.slice(text.indexOf('# ── JetStream'), text.indexOf('# ── Several outputs'));
    const lines = [...section.matchAll(/^# ((?:[a-z_]+ = |\[).+)$/gm)].map((m) =>
      m[1]!.replace(/\s+#.*$/, ''),
    );
    expect(lines.filter((line) => line.startsWith('['))).toEqual(['[jetstream]', '[from_jetstream]']);
    const uncommented = join(dir, 'jetstream.toml');
    await writeFile(uncommented, `${lines.join('\n')}\n`);
    const config = await loadConfig({ file: uncommented, flags: {} }, dir);
    expect(config.jetstream).toMatchObject({
      servers: ['nats://127.0.0.1:4222'],
      stream: 'LOGWIRE',
      replicas: 3,
    });
    expect(config.fromJetstream).toEqual({
      servers: ['nats://127.0.0.1:4222'],
      stream: 'LOGWIRE',
      consumer: 'logwire-files',
    });
  });

  it('loads with its [[output]] and [[route]] example uncommented', async () => {
    const text = await readFile(file, 'utf8');
    const section = text.slice(text.indexOf('# ── Several outputs'));
    const lines = [...section.matchAll(/^# ((?:[a-z_]+ = |\[\[).+)$/gm)].map((m) => m[1]!);
    expect(lines.filter((line) => line.startsWith('[['))).toHaveLength(5);
    const uncommented = join(dir, 'outputs.toml');
    await writeFile(uncommented, `${lines.join('\n')}\n`);
    const config = await loadConfig({ file: uncommented, flags: {} }, dir);
    expect(config.output).toBe('/var/log/logwire');
    expect(config.outputs.map((o) => [o.name, o.required])).toEqual([
      ['files', true],
      ['warnings', true],
      ['archive', false],
    ]);
    expect(config.routes.map((r) => r.to)).toEqual([['warnings'], ['files', 'archive']]);
  });
});

interface Unit {
  readonly text: string;
  /** Every value of `key` in the unit, in order. */
  values(key: string): string[];
}

async function unit(name: string): Promise<Unit> {
  const text = await readFile(join(EXAMPLES, 'systemd', name), 'utf8');
  return {
    text,
    values: (key) => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!.trim()),
  };
}

/** The flags a subcommand's --help lists. */
async function flagsOf(subcommand: string): Promise<Set<string>> {
  const { stdout } = await run(process.execPath, [LOGWIRE_BIN, subcommand, '--help']);
  return new Set([...stdout.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]));
}

describe('examples/systemd', () => {
  it('ExecStart runs the installed collector with real flags, writing only where ReadWritePaths allows', async () => {
    const service = await unit('logwire-collector.service');
    const [execStart] = service.values('ExecStart');
    const argv = execStart!.split(/\s+/);
    expect(argv[0]).toBe(INSTALLED_BIN);
    expect(argv[1]).toBe('collector');
    const known = await flagsOf('collector');
    const flags = argv.filter((arg) => arg.startsWith('--'));
    expect(flags.filter((flag) => !known.has(flag))).toEqual([]);
    const writable = service.values('ReadWritePaths').join(' ').split(/\s+/);
    const flagValue = (flag: string) => argv[argv.indexOf(flag) + 1];
    expect(writable.sort()).toEqual([flagValue('--output'), flagValue('--state')].sort());
    // The activated sockets it listens on exist in the socket unit, in that order.
    const socket = await unit('logwire-collector.socket');
    expect(socket.values('ListenStream')).toHaveLength(1);
    expect(socket.values('ListenDatagram')).toHaveLength(1);
    expect(argv.filter((_, i) => argv[i - 1] === '--listen')).toEqual(['tcp/systemd#0', 'udp/systemd#1']);
  });

  it('ExecReload sends RELOAD with `logwire signal` to the socket unit’s stream address', async () => {
    const service = await unit('logwire-collector.service');
    const argv = service.values('ExecReload')[0]!.split(/\s+/);
    expect(argv.slice(0, 2)).toEqual([INSTALLED_BIN, 'signal']);
    const known = await flagsOf('signal');
    expect(argv.filter((arg) => arg.startsWith('--') && !known.has(arg))).toEqual([]);
    expect(PROTOCOL_COMMANDS).toContain(argv.at(-1));
    expect(argv.at(-1)).toBe('RELOAD');
    const socket = await unit('logwire-collector.socket');
    expect(argv[argv.indexOf('--host') + 1]).toBe(`tcp/${socket.values('ListenStream')[0]}`);
  });

  it('is hardened: own user, read-only system, no new privileges, no capabilities', async () => {
    const service = await unit('logwire-collector.service');
    expect(service.values('User')).toEqual(['logwire']);
    expect(service.values('ProtectSystem')).toEqual(['strict']);
    expect(service.values('NoNewPrivileges')).toEqual(['yes']);
    expect(service.values('CapabilityBoundingSet')).toEqual(['']);
    const commands = service.text.split('\n').filter((line) => line.startsWith('Exec'));
    expect(commands.length).toBeGreaterThan(0);
    for (const line of commands) expect(line).not.toMatch(/\bnpx\b/);
  });

  it('passes systemd-analyze verify', async (ctx) => {
    const found = await run('systemd-analyze', ['--version']).then(
      () => true,
      () => false,
    );
    if (!found) {
      ctx.skip('systemd-analyze is not installed');
      return;
    }
    // verify checks that ExecStart's binary exists: point it at a wrapper around the built CLI.
    const bin = join(dir, 'logwire');
    await writeFile(bin, `#!/bin/sh\nexec "${process.execPath}" "${LOGWIRE_BIN}" "$@"\n`);
    await chmod(bin, 0o755);
    const units: string[] = [];
    for (const name of ['logwire-collector.service', 'logwire-collector.socket']) {
      const text = (await readFile(join(EXAMPLES, 'systemd', name), 'utf8')).replaceAll(INSTALLED_BIN, bin);
      await writeFile(join(dir, name), text);
      units.push(join(dir, name));
    }
    const { stderr } = await run('systemd-analyze', ['verify', ...units], { cwd: dir });
    // Unknown or malformed directives are only warnings: any output is a failure here.
    expect(stderr).toBe('');
  });
});
