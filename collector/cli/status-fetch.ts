/**
 * Asks a collector for STATUS over a stream and reads the reply, through `logwire signal`'s own
 * connection code (same addresses, timeout and TLS rules). Used by `logwire status` and `top`.
 */

import { parseLine } from '../../shared/protocol/line.js';
import { readStatus, type StatusReport } from '../control/status-lists.js';
import { runSignal, SIGNAL_EXIT } from './signal-command.js';

/** A stream default: a UDP STATUS gets no answer (PROTOCOL.md §7). */
export const DEFAULT_STATUS_HOST = 'tcp/127.0.0.1:4043';

export type StatusOutcome =
  | { readonly kind: 'answered'; readonly report: StatusReport }
  /** Exit code 1 (usage), 2 (refused) or 3 (no answer), with a message naming the address. */
  | { readonly kind: 'failed'; readonly exitCode: number; readonly reason: string };

export async function fetchStatus(host: string, timeout?: number | string): Promise<StatusOutcome> {
  if (/^udp\//i.test(host.trim())) {
    return {
      kind: 'failed',
      exitCode: SIGNAL_EXIT.USAGE,
      reason: `--host ${host}: STATUS needs a stream (tcp, unix, tls); a datagram gets no reply`,
    };
  }
  let out = '';
  let err = '';
  const result = await runSignal(
    {
      host,
      // A bare `host:port` is TCP here, whatever signal's own default scheme.
      ...(/^[a-z][a-z0-9+.-]*(:\/\/|\/)/i.test(host.trim()) ? {} : { type: 'tcp' }),
      reply: true,
      command: 'STATUS',
      ...(timeout === undefined ? {} : { timeout }),
    },
    {
      stdout: { write: (text: string) => (out += text) },
      stderr: { write: (text: string) => (err += text) },
    },
  );
  const why = err.trim().replace(/^logwire signal: /, '');
  if (result.exitCode === SIGNAL_EXIT.NO_ANSWER) {
    // signal's own reason already names the address ("no collector answered at …").
    return { kind: 'failed', exitCode: 3, reason: why || `no collector answered at ${host}` };
  }
  if (result.exitCode !== SIGNAL_EXIT.SENT || result.reply === undefined) {
    return { kind: 'failed', exitCode: result.exitCode, reason: why || `${host} did not answer STATUS` };
  }
  const reply = parseLine(result.reply);
  if (reply.command !== 'OK' || reply.params.command !== 'STATUS') {
    return { kind: 'failed', exitCode: SIGNAL_EXIT.REFUSED, reason: `${host} answered ${out.trim()}` };
  }
  return { kind: 'answered', report: readStatus(reply.params) };
}
