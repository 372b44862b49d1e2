import { LogwireError } from '../errors.js';
import type { Messenger } from '../net/messenger.js';
import type { Timers } from '../net/timers.js';
import type { BatchStore } from './batch-store.js';
import { register } from './registration.js';
import type { ServiceGate } from './service-gate.js';
import type { SourceRenewal } from './source-renewal.js';

/**
 * Opens a session on a link that is up (PROTOCOL.md §4.1–2): waits for the service name and for
 * a source id being renewed, sends REGISTER, and judges the answer. Anything but a usable READY
 * throws, and the permanent client backs off and connects again:
 *
 *   READY last=L (L < next)            → { last: L, maxBody }
 *   INVALID reason=sequence_behind     → a fresh source id, then throw
 *   READY last=L with L ≥ next         → a fresh source id, then throw (never resend into that)
 *   any other refusal                  → `refused(…)` (counted, kept for the close report), throw
 */

export interface SessionOpening {
  readonly service: ServiceGate;
  readonly sourceId: SourceRenewal;
  /** Where `next` and `first` come from. */
  readonly store: Pick<BatchStore, 'nextSeq' | 'firstSeq'>;
  readonly host: string;
  readonly token?: string;
  readonly pid?: number;
  /** ms to wait for the answer to REGISTER. */
  readonly registerTimeout: number;
  readonly timers: Timers;
  /** A refusal that a fresh source id does not cure, as `COMMAND reason=…`. */
  readonly refused: (refusal: string) => void;
  /** REGISTER is about to leave: the service is named and the source id settled. */
  readonly registering?: () => void;
}

export interface OpenedSession {
  /** The highest record number the collector has of this source: forget up to it. */
  readonly last: number;
  /** The collector's body limit, when READY gave one. */
  readonly maxBody: number | undefined;
}

/**
 * Awaits only what is not there yet: with the name known and no renewal, REGISTER leaves in the
 * very microtask that calls this, ahead of the batching of the chunk that named the service.
 */
export async function openSession(
  messenger: Messenger,
  opening: SessionOpening,
  signal: AbortSignal,
): Promise<OpenedSession> {
  const named = opening.service.wait(signal);
  const service = typeof named === 'string' ? named : await named;
  const renewing = opening.sourceId.pending;
  if (renewing !== undefined) await renewing;
  signal.throwIfAborted();
  opening.registering?.();
  const { store } = opening;
  const outcome = await register(
    messenger,
    {
      source: opening.sourceId.source,
      service,
      host: opening.host,
      next: store.nextSeq,
      first: store.firstSeq,
      ...(opening.pid === undefined ? {} : { pid: opening.pid }),
      ...(opening.token === undefined ? {} : { token: opening.token }),
    },
    { timeout: opening.registerTimeout, timers: opening.timers, signal },
  );
  if (outcome.kind === 'refused') {
    if (outcome.command === 'INVALID' && outcome.reason === 'sequence_behind')
      opening.sourceId.renew(outcome.reason);
    else opening.refused(`${outcome.command} reason=${outcome.reason}`);
    throw new LogwireError(
      'LW_ERR_REFUSED',
      `the collector answered REGISTER with ${outcome.command} reason=${outcome.reason}`,
    );
  }
  if (outcome.last > 0 && outcome.last >= store.nextSeq) {
    // The collector holds more of this source than it ever numbered: never resend into that.
    opening.sourceId.renew('READY last is at or above next');
    throw new LogwireError('LW_ERR_REFUSED', 'READY last ≥ next: registering under a fresh source id');
  }
  return { last: outcome.last, maxBody: outcome.maxBody };
}
