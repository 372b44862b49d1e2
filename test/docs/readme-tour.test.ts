/**
 * README.md's 30-second tour, run line by line through `sh` as written, in a scratch directory
 * that links `examples/` to the repository's. Two things differ from a user's terminal, both
 * through a stand-in `npx` first on PATH: `npx logwire …` runs the built CLI, with the collector on
 * port 0 (LOGWIRE_LISTEN) and `signal`/`status` given its real address; `npx --yes pino-pretty` is `cat`,
 * since pino-pretty is fetched from the registry and the tests run offline. The examples get the
 * address through LOGWIRE_ADDRESS. Ctrl-C (SIGINT) stops the collector, which must exit 0.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { LOGWIRE_BIN } from '../helpers/collector-process.js';
import { tempDir, until, within } from '../helpers/net-fixtures.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');

/** The tour's command lines, comments and blank lines left out. */
function tourLines(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A 30-second tour'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '');
}

const NPX = `#!/bin/sh
[ "$1" = "--yes" ] && shift
case "$1" in
  logwire)
    shift; sub="$1"; shift
    case "$sub" in
      signal|status) exec "$TOUR_NODE" "$TOUR_BIN" "$sub" --host "$TOUR_HOST" "$@" ;;
      *) exec "$TOUR_NODE" "$TOUR_BIN" "$sub" "$@" ;;
    esac ;;
  pino-pretty) exec cat ;;
esac
echo "npx $1: not in the tour" >&2
exit 127
`;

let collector: ChildProcess | undefined;

afterEach(async () => {
  if (collector !== undefined && collector.exitCode === null && collector.signalCode === null) {
    process.kill(-collector.pid!, 'SIGKILL');
    await once(collector, 'exit');
  }
  collector = undefined;
});

function lines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '');
}

it("README's 30-second tour works as written: collect, rotate, read, status", async () => {
  expect(tourLines()).toEqual([
    'npx logwire collector',
    'node examples/pino-tcp.mjs',
    'mv logs/pino-tcp.log logs/pino-tcp.log.1 && npx logwire signal LOG',
    'node examples/pino-tcp.mjs',
    'npx --yes pino-pretty < logs/pino-tcp.log.1',
    'npx logwire status',
  ]);
  const [start, app, rotate, again, read, status] = tourLines() as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];

  const dir = tempDir('lw-tour-');
  try {
    const bin = join(dir.path, '.bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'npx'), NPX);
    chmodSync(join(bin, 'npx'), 0o755);
    symlinkSync(join(ROOT, 'examples'), join(dir.path, 'examples'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      TOUR_NODE: process.execPath,
      TOUR_BIN: LOGWIRE_BIN,
      LOGWIRE_LISTEN: 'tcp/127.0.0.1:0',
    };

    // `exec`: the collector itself takes the pid, so the test stops it as Ctrl-C would, alone.
    collector = spawn('/bin/sh', ['-c', `exec ${start}`], {
      cwd: dir.path,
      env,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    collector.stderr!.setEncoding('utf8');
    collector.stderr!.on('data', (chunk: string) => {
      err += chunk;
    });
    await until(() => /^listening tcp\//m.test(err), 'the collector listening', 15_000);
    const address = /^listening (tcp\/\S+)$/m.exec(err)![1]!;
    const step = (line: string) =>
      run('/bin/sh', ['-c', line], {
        cwd: dir.path,
        env: { ...env, TOUR_HOST: address, LOGWIRE_ADDRESS: address },
      });

    await step(app);
    const file = join(dir.path, 'logs', 'pino-tcp.log');
    expect(lines(file)).toHaveLength(10);

    await step(rotate); // exits 0 only on OK command=LOG
    expect(lines(`${file}.1`)).toHaveLength(10);

    await step(again);
    expect(existsSync(file)).toBe(true);
    expect(lines(file)).toHaveLength(10);
    expect(lines(`${file}.1`)).toHaveLength(10);

    const shown = (await step(read)).stdout;
    expect(shown.split('\n').filter((line) => line.includes('"name":"pino-tcp"'))).toHaveLength(10);

    const report = (await step(status)).stdout;
    expect(report).toContain(`logwire collector ${address}: running`);
    expect(report).toMatch(/^written\s+20$/m);

    collector.kill('SIGINT');
    const [code] = await within(once(collector, 'exit'), 'the collector to stop');
    expect(code).toBe(0);
  } finally {
    dir.remove();
  }
});
