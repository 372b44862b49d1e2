import { FileFollower } from './file-follower.js';
import { resumeReads } from './file-resume.js';
import { parsePattern } from './path-pattern.js';
import { ReadPositions } from './read-positions.js';
import {
  DEFAULT_SERVICE,
  finishDelivery,
  openShipAppender,
  type ShipSettings,
  spoolPath,
} from './ship-appender.js';
import { spoolCursors } from './spool-cursors.js';

/**
 * `logwire ship FILE|DIR|GLOB…`: follows files until SIGTERM/SIGINT. Start-up puts the saved
 * positions and the spool together (resumeReads), then the appender opens the spool and ships
 * what an earlier run left in it while the follower reads on. At the stop every line read is
 * in the spool (exit 0) or the count of those that are not is said (exit 1).
 */

export interface FileRun {
  readonly stderr: (line: string) => void;
  readonly stop: Promise<void>;
  readonly cwd?: string;
}

export async function shipFiles(
  settings: ShipSettings,
  args: readonly string[],
  run: FileRun,
): Promise<number> {
  const dir = settings.spoolDir;
  if (dir === undefined) throw new Error('following files needs a spool directory');
  const positions = ReadPositions.load(dir);
  // Before the appender takes the spool's lock: the records an earlier run left there.
  const cursors = await spoolCursors(spoolPath(dir));
  const resumed = resumeReads(positions, cursors, run.stderr, Date.now());
  const appender = await openShipAppender(settings, settings.service ?? DEFAULT_SERVICE);
  const follower = new FileFollower({
    patterns: args.map((arg) => parsePattern(arg, run.cwd ?? process.cwd())),
    positions,
    appender,
    stderr: run.stderr,
  });
  follower.resume(resumed);
  follower.start();
  await run.stop;
  const settled = await follower.stop(settings.timeout);
  positions.save();
  // Spooled is delivered by the next run: the end waits for acks only briefly.
  const outcome = await finishDelivery(appender, Math.min(settings.timeout, 2000));
  if (!settled || outcome.lost > 0) {
    run.stderr(
      `logwire ship: stopped with records not in the spool (${outcome.lost} lost): their lines are read again at the next start\n`,
    );
    return 1;
  }
  if (outcome.unacknowledged > 0) {
    run.stderr(`logwire ship: ${outcome.unacknowledged} records stay in the spool for the next start\n`);
  }
  return 0;
}
