import { join } from 'node:path';
import { type Appender, createAppender } from '../appender/appender.js';
import { toName } from '../appender/options.js';

/**
 * The in-process appender `logwire ship` drives: the same stream `pino(await createAppender())`
 * writes to, so ship has the appender's numbering, acks, spool and failover. Its queue blocks
 * instead of dropping: ship reads its input only as fast as the appender takes it.
 */

export interface ShipSettings {
  /** Collector addresses, in failover order. */
  readonly addresses: readonly string[];
  /** The service name, when given; else the first record's `name`, else `ship`. */
  readonly service: string | undefined;
  /** ship's own directory: the appender's spool in `<dir>/spool`, file positions beside it. */
  readonly spoolDir: string | undefined;
  /** How long the end waits for the collector's acknowledgements, in ms. */
  readonly timeout: number;
}

export const DEFAULT_SERVICE = 'ship';
export const DEFAULT_TIMEOUT = 30_000;
/**
 * Longest record line ship hands over (LF included): the appender's record limit, the
 * collector's default max_body. A longer line could not be numbered, so it is reported here.
 */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024 - 1;

export function spoolPath(dir: string): string {
  return join(dir, 'spool');
}

export function openShipAppender(settings: ShipSettings, service: string): Promise<Appender> {
  return createAppender({
    address: [...settings.addresses],
    service,
    queue: { overflow: 'block' },
    // ship waits `--timeout` itself (finishDelivery); closing then waits no longer.
    closeTimeout: 0,
    ...(settings.spoolDir === undefined ? {} : { spool: spoolPath(settings.spoolDir) }),
  });
}

/** The service for a run: the flag, else the `name` of the first record line, else `ship`. */
export function serviceFor(settings: ShipSettings, firstRecord: string | undefined): string {
  if (settings.service !== undefined) return settings.service;
  if (firstRecord === undefined) return DEFAULT_SERVICE;
  try {
    const record: unknown = JSON.parse(firstRecord);
    const name =
      typeof record === 'object' && record !== null ? (record as { name?: unknown }).name : undefined;
    return typeof name === 'string' && name !== '' ? toName(name, DEFAULT_SERVICE) : DEFAULT_SERVICE;
  } catch {
    return DEFAULT_SERVICE;
  }
}

/** What was left at the end of a run. */
export interface DeliveryOutcome {
  /** Records not acknowledged when ship gave up waiting (with a spool they stay in it). */
  readonly unacknowledged: number;
  /** Records the appender dropped or could not deliver at all. */
  readonly lost: number;
}

/**
 * Waits up to `timeout` for every record handed over to be acknowledged, then ends the
 * appender (its close report says what is left) and resolves once it closed.
 */
export async function finishDelivery(appender: Appender, timeout: number): Promise<DeliveryOutcome> {
  await waitFor(appender, () => appender.counters.queued === 0, timeout);
  const unacknowledged = appender.counters.queued;
  const closed = new Promise<void>((resolve) => appender.once('close', () => resolve()));
  appender.end();
  await closed;
  return { unacknowledged, lost: appender.counters.dropped };
}

/** Resolves when `done()` holds (checked at each appender progress) or after `ms`. */
export function waitFor(appender: Appender, done: () => boolean, ms: number): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise((resolve) => {
    const check = (): void => {
      if (!done()) return;
      finish();
    };
    const finish = (): void => {
      clearTimeout(timer);
      clearInterval(poll);
      appender.off('progress', check);
      appender.off('status', check);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    // Progress events cover acks; the poll covers what no event reports (a spool append).
    const poll = setInterval(check, 200);
    appender.on('progress', check);
    appender.on('status', check);
  });
}
