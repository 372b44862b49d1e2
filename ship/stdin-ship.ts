import type { Readable } from 'node:stream';
import type { Appender } from '../appender/appender.js';
import { toRecord } from './line-record.js';
import { LineSplitter } from './line-splitter.js';
import {
  finishDelivery,
  MAX_RECORD_BYTES,
  openShipAppender,
  type ShipSettings,
  serviceFor,
} from './ship-appender.js';

/**
 * `logwire ship` with no file: NDJSON lines from a pipe until EOF, then delivery, then the exit
 * code. Input is read only as fast as the appender takes it (its write returning false pauses
 * the pipe until 'drain'), so a slow or absent collector holds the producer, not memory.
 *
 *   stdin ─▶ line splitter ─▶ toRecord (JSON object as is, anything else wrapped) ─▶ appender
 */

export interface StdinRun {
  readonly input: Readable;
  readonly stderr: (line: string) => void;
  readonly now?: () => number;
  /** Resolves when the run should stop reading early (SIGTERM/SIGINT): treated as EOF. */
  readonly stop?: Promise<void>;
}

export interface StdinCounts {
  readonly lines: number;
  readonly wrapped: number;
  readonly tooLarge: number;
}

/** Ships the input; resolves with the exit code (0 all acknowledged, 1 otherwise). */
export async function shipStdin(settings: ShipSettings, run: StdinRun): Promise<number> {
  const now = run.now ?? Date.now;
  const splitter = new LineSplitter();
  const counts = { lines: 0, wrapped: 0, tooLarge: 0 };
  let appender: Appender | undefined;
  let opening: Promise<Appender> | undefined;
  const input = run.input;
  const STOP = Symbol('stop');

  const convert = (texts: readonly string[]): string => {
    let out = '';
    for (const text of texts) {
      const record = toRecord(text, now());
      if (record.kind === 'empty') continue;
      if (Buffer.byteLength(record.line) + 1 > MAX_RECORD_BYTES) {
        counts.tooLarge += 1;
        continue;
      }
      counts.lines += 1;
      if (record.kind === 'wrapped') counts.wrapped += 1;
      out += `${record.line}\n`;
    }
    return out;
  };

  const open = (first: string | undefined): Promise<Appender> => {
    opening ??= openShipAppender(settings, serviceFor(settings, first)).then((made) => {
      appender = made;
      return made;
    });
    return opening;
  };

  const deliver = async (text: string): Promise<void> => {
    if (text === '') return;
    const target = appender ?? (await open(text.slice(0, text.indexOf('\n'))));
    if (!target.write(text)) await new Promise<void>((resolve) => target.once('drain', () => resolve()));
  };

  // Pulled one chunk at a time: the next read waits for the appender to take the last one.
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const stopped = (run.stop ?? new Promise<void>(() => {})).then(() => STOP);
  for (;;) {
    const next = await Promise.race([chunks.next(), stopped]);
    if (typeof next === 'symbol') {
      await chunks.return?.();
      break;
    }
    if (next.done === true) break;
    await deliver(convert(splitter.push(next.value).map((line) => line.text)));
  }
  const last = splitter.finish();
  if (last !== undefined) await deliver(convert([last.text]));

  // Nothing read this run: a spool may still hold records an earlier run left.
  if (appender === undefined && settings.spoolDir !== undefined) await open(undefined);
  if (appender === undefined) {
    run.stderr('logwire ship: no records on stdin: nothing to deliver\n');
    return 0;
  }
  const outcome = await finishDelivery(appender, settings.timeout);
  return report(run.stderr, counts, outcome, settings);
}

function report(
  stderr: (line: string) => void,
  counts: StdinCounts,
  outcome: { unacknowledged: number; lost: number },
  settings: ShipSettings,
): number {
  if (counts.tooLarge > 0) {
    stderr(
      `logwire ship: ${counts.tooLarge} lines over ${MAX_RECORD_BYTES} bytes were not shipped (a record cannot be that large)\n`,
    );
  }
  // Without a spool, what was unacknowledged when the wait ran out is given up at close and so
  // counted in `lost` too: each record once.
  const undelivered =
    settings.spoolDir === undefined ? Math.max(outcome.lost, outcome.unacknowledged) : outcome.lost;
  if (undelivered > 0 || counts.tooLarge > 0) {
    stderr(
      `logwire ship: ${undelivered + counts.tooLarge} of ${counts.lines + counts.tooLarge} records were not delivered\n`,
    );
    return 1;
  }
  if (outcome.unacknowledged > 0) {
    stderr(
      `logwire ship: ${outcome.unacknowledged} records are not acknowledged yet: they stay in the spool ` +
        `and the next \`logwire ship --spool ${settings.spoolDir}\` delivers them\n`,
    );
    return 1;
  }
  return 0;
}
