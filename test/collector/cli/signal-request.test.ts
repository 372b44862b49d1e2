import { describe, expect, it } from 'vitest';
import { parseSignalRequest, SignalUsageError } from '../../../collector/cli/signal-request.js';
import { formatAddress } from '../../../shared/protocol/address.js';

describe('parseSignalRequest', () => {
  it('defaults to tcp/127.0.0.1:4043 (a stream, so an answer is awaited), 5000 ms and no reply', () => {
    const r = parseSignalRequest({ command: 'LOG' });
    expect(formatAddress(r.address)).toBe('tcp/127.0.0.1:4043');
    expect(r.timeout).toBe(5000);
    expect(r.reply).toBe(false);
    expect(r.message.command).toBe('LOG');
    expect({ ...r.message.params }).toEqual({});
  });

  it('lets --type pick the scheme of the default host', () => {
    expect(formatAddress(parseSignalRequest({ type: 'udp', command: 'LOG' }).address)).toBe(
      'udp/127.0.0.1:4043',
    );
  });

  it('sends --secret-code as secret_code over tls', () => {
    const r = parseSignalRequest({ host: 'tls/example.com:4044', secretCode: 'xyzzy', command: 'STOP' });
    expect(r.message.params.secret_code).toBe('xyzzy');
  });

  it('keeps the value of --param after the first =', () => {
    const r = parseSignalRequest({ param: ['expr=a=b', 'empty='], command: 'STATUS' });
    expect({ ...r.message.params }).toEqual({ expr: 'a=b', empty: '' });
  });

  it('reads the destination of server:service/COMMAND', () => {
    expect(parseSignalRequest({ command: 'box:logwire/LOG' }).message.dest).toEqual({
      server: 'box',
      service: 'logwire',
    });
  });

  it('throws SignalUsageError with code LW_ERR_BAD_OPTION', () => {
    expect(() => parseSignalRequest({ command: '' })).toThrow(SignalUsageError);
    try {
      parseSignalRequest({ command: 'LOG', timeout: -1 });
    } catch (err) {
      expect((err as SignalUsageError).code).toBe('LW_ERR_BAD_OPTION');
    }
  });
});
