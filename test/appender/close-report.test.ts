import { describe, expect, it } from 'vitest';
import { type CloseReport, formatCloseReport } from '../../appender/close-report.js';

const nothing: CloseReport = {
  cause: 'closeTimeout',
  acknowledging: true,
  undelivered: 0,
  overflow: 0,
  tooLarge: 0,
  leftInSpool: 0,
  spoolPending: 0,
  maybeInSpool: 0,
  closeTimeout: 8000,
  fallback: undefined,
  peer: 'collector tcp/127.0.0.1:4043 connected',
  spoolDir: undefined,
};

describe('formatCloseReport', () => {
  it('says nothing when nothing was lost, dropped or left', () => {
    expect(formatCloseReport(nothing)).toBeUndefined();
  });

  it('names the cause: closeTimeout running out, or the process exiting first', () => {
    expect(formatCloseReport({ ...nothing, undelivered: 5 })).toBe(
      'logwire appender: 5 records not acknowledged within closeTimeout (8000 ms; collector tcp/127.0.0.1:4043 connected) are lost\n',
    );
    expect(formatCloseReport({ ...nothing, cause: 'exit', undelivered: 5, fallback: '/var/f.ndjson' })).toBe(
      'logwire appender: 5 records not acknowledged when the process exited (collector tcp/127.0.0.1:4043 connected) were written to fallback /var/f.ndjson\n',
    );
  });

  it('says "not sent" where nothing is acknowledged (UDP, NDJSON)', () => {
    expect(formatCloseReport({ ...nothing, acknowledging: false, cause: 'exit', undelivered: 2 })).toBe(
      'logwire appender: 2 records not sent when the process exited (collector tcp/127.0.0.1:4043 connected) are lost\n',
    );
  });

  it('puts every count in one line: drops, the spool, and appends to it cut short by exit', () => {
    const line = formatCloseReport({
      ...nothing,
      cause: 'exit',
      overflow: 3,
      tooLarge: 1,
      leftInSpool: 40,
      spoolPending: 7,
      maybeInSpool: 2,
      spoolDir: '/var/spool/app',
    });
    expect(line).toBe(
      "logwire appender: 4 records were dropped (3 by the queue's overflow policy, 1 too large); " +
        '40 records stay in spool /var/spool/app for the next start (collector tcp/127.0.0.1:4043 connected); ' +
        '7 records still being written to spool /var/spool/app when the process exited are lost (the first 2 may be in the spool)\n',
    );
  });
});
