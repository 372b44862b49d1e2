/**
 * `logwire top [--host ADDRESS] [--interval MS]`: STATUS every interval, shown with per-source
 * rates. On a terminal each frame clears and redraws the screen; otherwise frames follow one
 * another. `q` or Ctrl-C (or SIGINT/SIGTERM) quits with 0; 3 when the first STATUS gets no answer.
 * A collector that stops answering later is shown as such, and asked again at the next interval.
 */

import type { Command } from 'commander';
import { MAX_TIMER_MS } from '../../shared/net/clock.js';
import { DEFAULT_STATUS_HOST, fetchStatus, type StatusOutcome } from './status-fetch.js';
import { RateTracker } from './top-rates.js';
import { renderTop } from './top-view.js';

export interface TopOptions {
  readonly host?: string;
  readonly interval?: string;
}

export const DEFAULT_TOP_INTERVAL = 1000;
const MIN_INTERVAL = 100;
/** Cursor home, clear the screen. */
const CLEAR = '\x1b[H\x1b[2J';

type TopState = 'running' | 'quitting';

export async function runTop(options: TopOptions): Promise<number> {
  const host = options.host ?? DEFAULT_STATUS_HOST;
  const interval = intervalMs(options.interval);
  if (interval === undefined) {
    process.stderr.write(
      `logwire top: --interval must be a whole number of milliseconds, at least ${MIN_INTERVAL}, like --interval 1000 (got ${JSON.stringify(options.interval)})\n`,
    );
    return 1;
  }
  const first = await fetchStatus(host, Math.min(5000, Math.max(interval, 1000)));
  if (first.kind === 'failed') {
    process.stderr.write(`logwire top: ${first.reason}\n`);
    return first.exitCode;
  }
  const tty = process.stdout.isTTY === true;
  const rates = new RateTracker();
  let state: TopState = 'running';
  let wake: (() => void) | undefined;
  const quit = (): void => {
    state = 'quitting';
    wake?.();
  };
  const keys = watchKeys(quit);
  process.on('SIGINT', quit);
  process.on('SIGTERM', quit);
  try {
    let outcome: StatusOutcome = first;
    while (state === 'running') {
      const frame =
        outcome.kind === 'answered'
          ? renderTop(host, outcome.report, rates.next(outcome.report), interval)
          : `logwire top  ${host}\n${outcome.reason} (asking again every ${interval} ms)\n`;
      process.stdout.write(tty ? `${CLEAR}${frame}` : `${frame}\n`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, interval);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (state !== 'running') break;
      outcome = await fetchStatus(host, Math.min(5000, Math.max(interval, 1000)));
    }
  } finally {
    keys();
    process.off('SIGINT', quit);
    process.off('SIGTERM', quit);
  }
  return 0;
}

/** Quits on `q` or Ctrl-C typed on stdin (raw mode on a terminal); returns the undo. */
function watchKeys(quit: () => void): () => void {
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  const onData = (chunk: Buffer): void => {
    if (chunk.includes(0x71) || chunk.includes(0x51) || chunk.includes(0x03)) quit();
  };
  if (raw) stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.on('error', () => {});
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  };
}

function intervalMs(text: string | undefined): number | undefined {
  if (text === undefined) return DEFAULT_TOP_INTERVAL;
  const ms = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(ms) && ms >= MIN_INTERVAL && ms <= MAX_TIMER_MS ? ms : undefined;
}

export function addTopCommand(program: Command): Command {
  return program
    .command('top')
    .description("show a collector's sessions and per-source rates, refreshed live")
    .option('--host <address>', `collector address (default ${DEFAULT_STATUS_HOST})`)
    .option('--interval <ms>', `refresh every MS milliseconds (default ${DEFAULT_TOP_INTERVAL})`)
    .action(async (opts: TopOptions) => {
      process.exitCode = await runTop(opts);
      setTimeout(() => process.exit(process.exitCode), 1000).unref();
    });
}
