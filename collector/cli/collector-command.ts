/**
 * `logwire collector`: loads the configuration, checks that the output and state directories
 * can be written, prints `logwire <version> output=… state=…[ config=…]`, starts the daemon,
 * prints one `listening <address>` line per bound listener on stderr (tests read ports from it), and turns
 * process signals into the collector's own operations:
 *
 *   SIGTERM, SIGINT   drain and exit 0 (a second one while draining exits 1 at once)
 *   SIGHUP, SIGUSR1   reopen every output file (logrotate)
 *   STOP / QUIT       received by the collector: `done` resolves, exit 0
 *
 * Exit codes (INTERFACES.md): 0 drained cleanly, 1 bad configuration or arguments, 2 a
 * listener cannot be bound.
 */

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { LogwireError } from '../../shared/errors.js';
import type { startCollector } from '../collector.js';
import { type ConfigInput, loadConfig } from '../config/config.js';
import type { Collector, CollectorConfig, CollectorLog } from '../config/config-types.js';
import { createCollectorLog } from '../log.js';
import { collect } from './repeatable.js';
import { checkDirectories } from './start-checks.js';
import { packageVersion } from './version.js';

export interface CollectorFlags {
  readonly config?: string;
  readonly listen?: readonly string[];
  readonly output?: string;
  readonly state?: string;
  readonly trace?: boolean;
  readonly allow?: readonly string[];
  readonly metrics?: string;
  /** Upstream collectors to relay to, in failover order. */
  readonly forward?: readonly string[];
  /** This start only: keep output files the checkpoint cannot account for (docs/collector.md). */
  readonly acceptOutputs?: boolean;
  readonly jetstream?: readonly string[];
  readonly fromJetstream?: readonly string[];
  readonly consumer?: string;
}

/** The process around the collector: injected by tests, the real one by default. */
export interface CollectorDeps {
  readonly start?: typeof startCollector;
  readonly stderr?: NodeJS.WritableStream;
  readonly signals?: Pick<NodeJS.Process, 'on' | 'off'>;
  /** Immediate exit, for the second SIGTERM/SIGINT. */
  readonly exit?: (code: number) => void;
  readonly cwd?: string;
  /** `LOGWIRE_<KEY>` settings; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** 1 is also a failed drain, or a second stop signal cutting the drain short. */
export const COLLECTOR_EXIT = Object.freeze({ OK: 0, FAILED: 1, LISTEN: 2 });

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const REOPEN_SIGNALS = ['SIGHUP', 'SIGUSR1'] as const;

/** Runs the collector until it has stopped; resolves with the exit code. */
export async function runCollector(flags: CollectorFlags, deps: CollectorDeps = {}): Promise<number> {
  const stderr = deps.stderr ?? process.stderr;
  const cwd = deps.cwd ?? process.cwd();
  const input: ConfigInput = {
    ...(flags.config === undefined ? {} : { file: flags.config }),
    flags: {
      listen: flags.listen,
      output: flags.output,
      state: flags.state,
      trace: flags.trace,
      allow: flags.allow,
      metrics: flags.metrics,
      forward: flags.forward,
      ...{ jetstream: flags.jetstream, fromJetstream: flags.fromJetstream, consumer: flags.consumer },
    },
    env: deps.env ?? process.env,
  };
  let config: CollectorConfig;
  try {
    config = await loadConfig(input, cwd);
  } catch (err) {
    stderr.write(`logwire collector: ${messageOf(err)}\n`);
    return COLLECTOR_EXIT.FAILED;
  }
  try {
    await checkDirectories(config, flags);
  } catch (err) {
    stderr.write(`logwire collector: ${messageOf(err)}\n`);
    return COLLECTOR_EXIT.FAILED;
  }
  stderr.write(`${startLine(config, flags.config === undefined ? undefined : resolve(cwd, flags.config))}\n`);
  // The collector decides what to trace (config.trace, which RELOAD can turn on and off).
  const log = createCollectorLog({ trace: true, stream: stderr });
  let collector: Collector;
  try {
    // RELOAD re-reads the same file with the same flags; a bad one is refused by the collector.
    // Loaded here, so that `logwire signal` (run by logrotate) does not load the whole daemon.
    const start = deps.start ?? (await import('../collector.js')).startCollector;
    collector = await start(config, {
      log,
      reload: () => loadConfig(input, cwd),
      ...(flags.acceptOutputs === true ? { acceptOutputs: true } : {}),
    });
  } catch (err) {
    stderr.write(`logwire collector: ${messageOf(err)}\n`);
    // A listener that cannot be bound, or a NATS cluster that does not answer: exit 2.
    return err instanceof LogwireError && (err.code === 'LW_ERR_LISTEN' || err.code === 'LW_ERR_CONNECT')
      ? COLLECTOR_EXIT.LISTEN
      : COLLECTOR_EXIT.FAILED;
  }
  return superviseUntilDone(collector, log, deps, () => {
    // Only once the signal handlers are in place: a test (or systemd) may signal right after.
    for (const address of collector.addresses) stderr.write(`listening ${address}\n`);
    if (collector.metricsAddress !== undefined)
      stderr.write(`metrics http://${collector.metricsAddress}/metrics\n`);
  });
}

function superviseUntilDone(
  collector: Collector,
  log: CollectorLog,
  deps: CollectorDeps,
  onSupervised: () => void,
): Promise<number> {
  const signals = deps.signals ?? process;
  const exit = deps.exit ?? ((code: number) => process.exit(code));
  return new Promise<number>((resolve) => {
    let draining = false;
    let finished = false;
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      for (const name of STOP_SIGNALS) signals.off(name, onStop);
      for (const name of REOPEN_SIGNALS) signals.off(name, onReopen);
      resolve(code);
    };
    const onStop = (signal: NodeJS.Signals): void => {
      if (draining) {
        // A second SIGTERM/SIGINT while draining: the operator wants out now. Exit 1 at once,
        // since what was still draining may be unwritten (its senders will resend it).
        log.warn('second stop signal while draining: exiting now', { signal });
        exit(COLLECTOR_EXIT.FAILED);
        return;
      }
      draining = true;
      log.info('draining', { signal });
      collector.stop(signal).then(
        () => finish(COLLECTOR_EXIT.OK),
        (err: unknown) => {
          log.error('stop failed', { err });
          finish(COLLECTOR_EXIT.FAILED);
        },
      );
    };
    const onReopen = (signal: NodeJS.Signals): void => {
      collector.reopen().then(
        () => log.info('output files reopened', { signal }),
        (err: unknown) => log.error('reopening output files failed', { signal, err }),
      );
    };
    for (const name of STOP_SIGNALS) signals.on(name, onStop);
    for (const name of REOPEN_SIGNALS) signals.on(name, onReopen);
    onSupervised();
    collector.done.then(
      () => finish(COLLECTOR_EXIT.OK),
      (err: unknown) => {
        log.error('collector failed', { err });
        finish(COLLECTOR_EXIT.FAILED);
      },
    );
  });
}

/** `logwire <version> output=<dir> state=<dir>[ config=<file>]` (INTERFACES.md), before `listening`. */
export function startLine(config: CollectorConfig, configFile: string | undefined): string {
  const file = configFile === undefined ? '' : ` config=${configFile}`;
  return `logwire ${packageVersion()} output=${config.output} state=${config.state}${file}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Adds `logwire collector` to the program; the action exits with the collector's code. */
export function addCollectorCommand(program: Command): Command {
  return program
    .command('collector')
    .description('run the log collector (docs/collector.md)')
    .option('--config <file>', 'TOML configuration file')
    .option(
      '--listen <address>',
      'listen on ADDRESS (repeatable); replaces the default tcp/127.0.0.1:4043 and udp/127.0.0.1:4043',
      collect,
    )
    .option('--output <dir>', 'output directory (default ./logs)')
    .option(
      '--forward <address>',
      'relay every record to the upstream collector at ADDRESS (repeatable: a failover list); replaces the file output unless --output is given',
      collect,
    )
    .option('--state <dir>', 'state directory (default <output>/.state)')
    .option('--trace', 'log every received message (never record bodies)')
    .option(
      '--allow <cidr>',
      'addresses that may reach listeners open to other hosts (repeatable; "any" for all)',
      collect,
    )
    .option('--metrics <address>', 'serve /metrics and /health on HOST:PORT, like 127.0.0.1:9464')
    .option(
      '--accept-outputs',
      'this start only: keep output files the checkpoint cannot account for, instead of refusing to start',
    )
    .option(
      '--jetstream <url>',
      'publish every batch to JetStream at URL (repeatable: the cluster) instead of files; with --output, files too',
      collect,
    )
    .option(
      '--from-jetstream <url>',
      'read batches from JetStream at URL (repeatable) and write them',
      collect,
    )
    .option('--consumer <name>', 'the durable consumer --from-jetstream reads with (default logwire-files)')
    .action(async (opts: CollectorFlags) => {
      process.exit(await runCollector(opts));
    });
}
