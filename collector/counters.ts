/**
 * The collector's counters, reported by STATUS (never a token or secret). The record counters
 * (written, retransmitted, gaps, rejected) move once the writer's tick is written and saved.
 */
export interface CollectorCounters {
  connections: number;
  sessions: number;
  batches: number;
  /** Records written to an output file. */
  written: number;
  /** Records at or below their source's mark: acknowledged, not written again (§4). */
  retransmitted: number;
  /** Records a sender skipped (S > mark + 1): counted as lost by the sender (§4). */
  gaps: number;
  /** Records sent to _rejected.log (bad shape, bad batch, body over max_body). */
  rejected: number;
  /** Datagrams dropped as unreadable (§7). */
  datagramsDropped: number;
  protocolErrors: number;
  pauses: number;
  /** Output files found deleted while open (what they held is gone), reopened. */
  outputsDeleted: number;
  /** Output files found renamed or replaced while open (what they hold is kept), reopened. */
  outputsMoved: number;
  /** Stream connections closed for sending neither REGISTER nor a control command in time (§4). */
  registerTimeouts: number;
  /** Batches the JetStream stream already held when published (a resend after a failover). */
  jetstreamDuplicates: number;
  /** JetStream publishes tried again after a failure or timeout. */
  jetstreamRetries: number;
}

export function createCounters(): CollectorCounters {
  return {
    connections: 0,
    sessions: 0,
    batches: 0,
    written: 0,
    retransmitted: 0,
    gaps: 0,
    rejected: 0,
    datagramsDropped: 0,
    protocolErrors: 0,
    pauses: 0,
    outputsDeleted: 0,
    outputsMoved: 0,
    registerTimeouts: 0,
    jetstreamDuplicates: 0,
    jetstreamRetries: 0,
  };
}
