/**
 * What README.md and docs/*.md tell people to type exists: every `logwire SUBCOMMAND` runs with
 * `--help` (exit 0, its own usage), every flag a command line or an inline span names appears in
 * that subcommand's `--help` (a bare `--flag` in any subcommand's), every appender option in
 * docs/appender.md's table is one the appender takes, and every configuration key in
 * docs/collector.md is one the collector takes (and the other way round).
 */

import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAppenderOptions } from '../../appender/options.js';
import { TOP_KEYS } from '../../collector/config/config.js';
import { LISTEN_KEYS } from '../../collector/config/config-listeners.js';
import { SCHEMES } from '../../shared/protocol/address.js';
import { LOGWIRE_BIN } from '../helpers/collector-process.js';
import { type DocCommand, type DocFlag, extractDocCommands } from '../helpers/doc-commands.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

function page(name: string): string {
  return readFileSync(join(ROOT, name), 'utf8');
}

const extracts = PAGES.map((name) => extractDocCommands(name, page(name)));
const commands: DocCommand[] = extracts.flatMap((extract) => [...extract.commands]);
// A bare flag the same page passes to another program (`npm run bench -- --quick`) is that program's.
const bareFlags: DocFlag[] = extracts.flatMap((extract) =>
  extract.bareFlags.filter((flag) => !extract.foreignFlags.has(flag.flag)),
);

interface Help {
  readonly code: number;
  readonly usage: string;
  readonly flags: ReadonlySet<string>;
}

async function help(args: readonly string[]): Promise<Help> {
  try {
    const { stdout } = await run(process.execPath, [LOGWIRE_BIN, ...args, '--help']);
    return {
      code: 0,
      usage: stdout.split('\n')[0] ?? '',
      flags: new Set([...stdout.matchAll(/--[a-z][a-z0-9-]*/g)].map((m) => m[0])),
    };
  } catch (error) {
    return { code: (error as { code?: number }).code ?? 1, usage: '', flags: new Set() };
  }
}

const helps = new Map<string, Help>();
let subcommands: string[] = [];

beforeAll(async () => {
  const root = await run(process.execPath, [LOGWIRE_BIN, '--help']);
  const listed = root.stdout.slice(root.stdout.indexOf('Commands:'));
  subcommands = [...listed.matchAll(/^ {2}([a-z][a-z-]*)/gm)]
    .map((m) => m[1]!)
    .filter((name) => name !== 'help');
  const named = new Set([...subcommands, ...commands.map((command) => command.subcommand)]);
  for (const name of named) helps.set(name, await help([name]));
}, 60_000);

describe('the extraction', () => {
  it('finds commands in blocks and spans, their flags, bare flags, and skips what is not a command', () => {
    const markdown = [
      'Run `logwire status --json` or `--host`; `logwire <command>` is a placeholder.',
      '```sh',
      '$ npx logwire collector --listen tcp/127.0.0.1:0 \\',
      '    --output ./logs   # a comment --not-a-flag',
      'mv a b && /usr/local/bin/logwire signal --host tcp/127.0.0.1:4043 LOG',
      'npm install --global logwire',
      "import pino from 'pino'; pino.transport({ target: 'logwire/appender' })",
      'logwire appender: not shipping: …',
      '```',
    ].join('\n');
    const found = extractDocCommands('x.md', markdown);
    expect(found.commands.map((c) => [c.where, c.subcommand, c.flags])).toEqual([
      ['x.md:1', 'status', ['--json']],
      ['x.md:3', 'collector', ['--listen', '--output']],
      ['x.md:5', 'signal', ['--host']],
    ]);
    expect(found.bareFlags).toEqual([{ where: 'x.md:1', flag: '--host' }]);
    expect([...found.foreignFlags]).toEqual(['--global']);
  });
});

describe('logwire commands named in README.md and docs/*.md', () => {
  it('finds the commands the docs rely on', () => {
    const named = new Set(commands.map((command) => command.subcommand));
    for (const name of ['collector', 'signal', 'status', 'top', 'check-config'])
      expect(named).toContain(name);
  });

  it('every subcommand runs with --help, exit 0, showing its own usage', () => {
    const broken = commands
      .filter((command) => {
        const shown = helps.get(command.subcommand)!;
        return shown.code !== 0 || !shown.usage.startsWith(`Usage: logwire ${command.subcommand} `);
      })
      .map((command) => `${command.where}: ${command.text}`);
    expect(broken).toEqual([]);
  });

  it("every flag on a command line is in that subcommand's --help", () => {
    const missing = commands.flatMap((command) =>
      command.flags
        .filter((flag) => !helps.get(command.subcommand)!.flags.has(flag))
        .map((flag) => `${command.where}: ${flag} (logwire ${command.subcommand})`),
    );
    expect(missing).toEqual([]);
  });

  it("every bare --flag in the text is in some subcommand's --help", () => {
    const known = new Set(subcommands.flatMap((name) => [...helps.get(name)!.flags]));
    const missing = bareFlags
      .filter((flag) => !known.has(flag.flag))
      .map((flag) => `${flag.where}: ${flag.flag}`);
    expect(missing).toEqual([]);
  });
});

/** First-column names of the markdown table whose header row starts with `| <header> `. */
function tableNames(markdown: string, header: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => new RegExp(`^\\|\\s*${header}\\s*\\|`).test(line));
  expect(start, `a table headed "${header}"`).toBeGreaterThanOrEqual(0);
  const names: string[] = [];
  for (const line of lines.slice(start + 2)) {
    const cell = /^\|\s*`([^`]+)`/.exec(line);
    if (!line.startsWith('|')) break;
    if (cell !== null) names.push(cell[1]!);
  }
  return names;
}

/** Sets `path` (dotted) to `value` in a fresh options object. */
function optionsWith(path: string, value: unknown): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  let at = options;
  const parts = path.split('.');
  for (const part of parts.slice(0, -1)) {
    at[part] = {};
    at = at[part] as Record<string, unknown>;
  }
  at[parts.at(-1)!] = value;
  return options;
}

function optionError(options: Record<string, unknown>): string {
  try {
    parseAppenderOptions(options);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('docs/appender.md options table', () => {
  const documented = tableNames(page('docs/appender.md'), 'option');

  it('names only options the appender takes', () => {
    expect(documented.length).toBeGreaterThan(10);
    const unknown = documented.filter((path) =>
      optionError(optionsWith(path, -0.5)).includes(`appender option ${path} is not an option`),
    );
    expect(unknown).toEqual([]);
  });

  it('names every top-level option the appender takes', () => {
    // The appender lists its options when given one it does not take.
    const listed = /the options are (.+)$/.exec(optionError({ notAnOption: 1 }))?.[1]?.split(', ') ?? [];
    expect(listed.length).toBeGreaterThan(10);
    const topLevel = new Set(documented.map((path) => path.split('.')[0]!));
    expect(listed.filter((name) => !topLevel.has(name))).toEqual([]);
  });
});

describe('docs/collector.md configuration keys', () => {
  const text = page('docs/collector.md');

  it('the key table names exactly the collector keys', () => {
    expect([...tableNames(text, 'key')].sort()).toEqual([...TOP_KEYS].sort());
  });

  it('the [[listen]] paragraph names exactly the [[listen]] keys', () => {
    const paragraph = text.slice(text.indexOf('`[[listen]]` tables:')).split('\n\n')[0]!;
    // Scheme names and top-level keys (`token`) also appear in it, as what they are.
    const elsewhere = new Set<string>([...SCHEMES, ...TOP_KEYS.filter((key) => !LISTEN_KEYS.includes(key))]);
    const named = [...paragraph.matchAll(/`([a-z_]+)`/g)]
      .map((m) => m[1]!)
      .filter((name) => !elsewhere.has(name));
    expect([...new Set(named)].sort()).toEqual([...LISTEN_KEYS].sort());
  });
});
