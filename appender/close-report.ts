import { writeSync } from 'node:fs';

/**
 * The one line the appender writes on stderr at close when anything was dropped or could not be
 * delivered (issue #4: never silently gone). Written with a synchronous write to fd 2: pino's
 * worker exits right after the stream's 'close', before an asynchronous write would get out.
 */

export interface CloseReport {
  /** Why delivery stopped being waited for: closeTimeout ran out, or the process exited first. */
  readonly cause: 'closeTimeout' | 'exit';
  /** A session (acknowledged records); false for UDP and NDJSON, where records are only sent. */
  readonly acknowledging: boolean;
  /** Records neither acknowledged nor spooled when closing gave up. */
  readonly undelivered: number;
  /** Records dropped earlier: queue overflow, too large for a body or a datagram. */
  readonly overflow: number;
  readonly tooLarge: number;
  /** Records left in the spool, to be shipped by the next start. */
  readonly leftInSpool: number;
  /** Records still being written to the spool when delivery was given up (written to fallback). */
  readonly spoolPending: number;
  /** Of those, the first batch's: its write was under way, so it may be in the spool as well. */
  readonly maybeInSpool: number;
  readonly closeTimeout: number;
  /** Where dropped records were written, if anywhere ("stderr", a path). */
  readonly fallback: string | undefined;
  /** The collector's address and state, or the last connection error. */
  readonly peer: string;
  readonly spoolDir: string | undefined;
}

/** What became of records that could not be delivered: "are lost", or where they were written. */
function fateOf(fallback: string | undefined): string {
  return fallback === undefined ? 'are lost' : `were written to fallback ${fallback}`;
}

/** The line for records logged once nothing could ship them any more (`after`: what ended it). */
export function formatLateLine(records: number, after: string, fallback: string | undefined): string {
  return `logwire appender: ${records} records logged after ${after} ${fateOf(fallback)}\n`;
}

/** The report line with its LF, or undefined when there is nothing to say. */
export function formatCloseReport(report: CloseReport): string | undefined {
  const parts: string[] = [];
  if (report.undelivered > 0) {
    const when =
      report.cause === 'exit'
        ? `when the process exited (${report.peer})`
        : `within closeTimeout (${report.closeTimeout} ms; ${report.peer})`;
    const fate = fateOf(report.fallback);
    const what = report.acknowledging ? 'not acknowledged' : 'not sent';
    parts.push(`${report.undelivered} records ${what} ${when} ${fate}`);
  }
  const dropped = report.overflow + report.tooLarge;
  if (dropped > 0) {
    parts.push(
      `${dropped} records were dropped (${report.overflow} by the queue's overflow policy, ` +
        `${report.tooLarge} too large)${report.fallback === undefined ? '' : ` to fallback ${report.fallback}`}`,
    );
  }
  if (report.leftInSpool > 0) {
    parts.push(
      `${report.leftInSpool} records stay in spool ${report.spoolDir} for the next start (${report.peer})`,
    );
  }
  if (report.spoolPending > 0) {
    const when = report.cause === 'exit' ? 'when the process exited' : 'when closing gave up';
    const fate =
      report.fallback === undefined
        ? `are lost (the first ${report.maybeInSpool} may be in the spool)`
        : `were written to fallback ${report.fallback} (the first ${report.maybeInSpool} may also be in the spool)`;
    parts.push(
      `${report.spoolPending} records still being written to spool ${report.spoolDir} ${when} ${fate}`,
    );
  }
  return parts.length === 0 ? undefined : `logwire appender: ${parts.join('; ')}\n`;
}

/** Writes a line to fd 2 at once; never throws. */
export function writeStderr(line: string): void {
  try {
    writeSync(2, line);
  } catch {
    // stderr closed or non-blocking and full: nothing else to tell it with.
  }
}
