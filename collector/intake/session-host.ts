/** What sessions and control handlers see of the running collector. */

import type { DispatchContext } from '../../shared/dispatcher/context.js';
import type { Clock } from '../../shared/net/clock.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { CollectorConfig, CollectorLog } from '../config/config-types.js';
import type { CollectorCounters } from '../counters.js';
import type { Writer } from '../writer/writer.js';
import type { PeerLogLimit } from './peer-log-limit.js';
import type { Session } from './session.js';

export interface SessionHost {
  readonly config: () => CollectorConfig;
  readonly writer: Writer;
  readonly checkpoint: Checkpoint;
  readonly counters: CollectorCounters;
  /** The live session of each source. */
  readonly sessions: Map<string, Session>;
  readonly paused: () => boolean;
  /** STOP/QUIT began: UDP and ndjson input is no longer taken. */
  readonly stopping: () => boolean;
  readonly log: CollectorLog;
  /** For log lines about a peer's bad input: rate-limited per peer. */
  readonly badInputLog: PeerLogLimit;
  /** Times held ACKs (ack_delay). */
  readonly clock: Clock;
}

/** The dispatcher's context in the collector: a stream session, or none for UDP. */
export interface CollectorContext extends DispatchContext {
  readonly session: Session | undefined;
}
