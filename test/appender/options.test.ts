import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BATCH,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_MAX_DATAGRAM,
  DEFAULT_QUEUE_MAX_BYTES,
  DEFAULT_WINDOW,
  parseAppenderOptions,
  scriptName,
  toName,
} from '../../appender/options.js';
import { DEFAULT_BACKOFF } from '../../shared/net/backoff.js';

const badOption = (message: RegExp) =>
  expect.objectContaining({ code: 'LW_ERR_BAD_OPTION', message: expect.stringMatching(message) });

describe('parseAppenderOptions', () => {
  it('applies the defaults to no options at all', () => {
    const options = parseAppenderOptions(undefined);
    expect(options.addresses).toEqual([{ scheme: 'tcp', host: '127.0.0.1', port: 4043 }]);
    expect(options.protocol).toBe('logwire');
    expect(options.delivery).toBe('session');
    expect(options.batch).toEqual(DEFAULT_BATCH);
    expect(options.window).toBe(DEFAULT_WINDOW);
    expect(options.queue).toEqual({ maxBytes: DEFAULT_QUEUE_MAX_BYTES, overflow: 'drop-oldest' });
    expect(options.spool).toBeUndefined();
    expect(options.backoff).toEqual(DEFAULT_BACKOFF);
    expect(options.closeTimeout).toBe(DEFAULT_CLOSE_TIMEOUT);
    expect(options.udp.maxDatagram).toBe(DEFAULT_MAX_DATAGRAM);
    expect(options.fallback).toBeUndefined();
    expect(options.service).toBeUndefined();
    expect(Object.isFrozen(options)).toBe(true);
  });

  it('survives a structured clone: options are plain data', () => {
    const input = {
      address: ['tcp/$4:5000', 'unix//tmp/x.sock'],
      batch: { maxRecords: 10 },
      queue: { maxBytes: 1 << 20, overflow: 'block' },
      spool: { dir: '/tmp/spool', fsync: true },
      tls: { ca: Buffer.from('PEM'), rejectUnauthorized: false },
      backoff: { initial: 10, max: 100, factor: 2 },
      rateLimit: '65536/1000',
      fallback: '/tmp/dropped.log',
    };
    const options = parseAppenderOptions(structuredClone(input));
    expect(options.addresses.map((a) => a.scheme)).toEqual(['tcp', 'unix']);
    expect(options.batch).toEqual({ ...DEFAULT_BATCH, maxRecords: 10 });
    expect(options.queue.overflow).toBe('block');
    expect(options.spool).toEqual({ dir: '/tmp/spool', maxBytes: 64 * 1024 * 1024, fsync: true });
    expect(Buffer.isBuffer(options.tls?.ca)).toBe(true);
    expect(options.rateLimit).toEqual({ bytes: 65536, perMs: 1000 });
    expect(options.fallback).toEqual({ path: '/tmp/dropped.log' });
  });

  it('shrinks the default batch size to fit a smaller queue or spool; a given one is kept', () => {
    expect(parseAppenderOptions({}).batch.maxBytes).toBe(1024 * 1024);
    expect(parseAppenderOptions({ queue: { maxBytes: 300_000 } }).batch.maxBytes).toBe(300_000);
    expect(
      parseAppenderOptions({ queue: { maxBytes: 300_000 }, spool: { dir: '/s', maxBytes: 200_000 } }).batch,
    ).toEqual({ maxRecords: 8192, maxBytes: 200_000, maxDelay: 10 });
    expect(
      parseAppenderOptions({ queue: { maxBytes: 300_000 }, batch: { maxBytes: 1000 } }).batch.maxBytes,
    ).toBe(1000);
  });

  it('takes a spool as a directory string', () => {
    expect(parseAppenderOptions({ spool: '/var/spool/app' }).spool?.dir).toBe('/var/spool/app');
  });

  it('reads the ndjson scheme and protocol as plain NDJSON', () => {
    expect(parseAppenderOptions({ address: 'ndjson/127.0.0.1:9000' }).delivery).toBe('ndjson');
    const viaOption = parseAppenderOptions({ address: 'tcp/127.0.0.1:9000', protocol: 'ndjson' });
    expect(viaOption.protocol).toBe('ndjson');
    expect(() => parseAppenderOptions({ address: 'udp/127.0.0.1:9000', protocol: 'ndjson' })).toThrow(
      badOption(/udp cannot carry plain NDJSON/),
    );
  });

  it('sends over UDP when every address is udp, and refuses a mix', () => {
    expect(parseAppenderOptions({ address: 'udp/$4:4043' }).delivery).toBe('udp');
    expect(() => parseAppenderOptions({ address: 'udp/$4:4043,tcp/$4:4043' })).toThrow(
      badOption(/mixes udp/),
    );
  });

  it('maps names to the protocol rule', () => {
    const options = parseAppenderOptions({ service: '@scope/my app!', source: '-x', host: 'h'.repeat(70) });
    expect(options.service).toBe('scope_my_app_');
    expect(options.source).toBe('x');
    expect(options.host).toBe('h'.repeat(64));
  });

  it.each([
    [{ adress: 'tcp/x:1' }, /option adress is not an option; did you mean address\?/],
    [{ closeTimout: 10 }, /option closeTimout is not an option; did you mean closeTimeout\?/],
    [{ close_timeout: 10 }, /option close_timeout is not an option; did you mean closeTimeout\?/],
    [{ batch: { maxRecord: 1 } }, /option batch.maxRecord is not an option; did you mean batch.maxRecords\?/],
    [{ zebra: 1 }, /option zebra is not an option; the options are address, protocol/],
    [{ addresses: 'tcp/x:1' }, /addresses is not an option: it is called address/],
    [{ maxDatagram: 100 }, /it is called udp.maxDatagram/],
    [{ address: 'http://x' }, /address is invalid/],
    [{ address: 42 }, /address must be an address or a list/],
    [{ batch: { maxRecords: 0 } }, /batch.maxRecords must be a whole number of records from 1/],
    [{ batch: { maxBytes: '1k' } }, /batch.maxBytes must be a whole number of bytes/],
    [
      { batch: { size: 1 } },
      /batch.size is not an option; the options of batch are maxRecords, maxBytes, maxDelay/,
    ],
    [{ window: -1 }, /window must be a whole number of bytes/],
    [{ queue: { overflow: 'drop' } }, /queue.overflow must be "drop-oldest", "drop-newest", "block"/],
    [
      { queue: { maxBytes: 10 }, batch: { maxBytes: 100 } },
      /queue.maxBytes \(10\) must be at least batch.maxBytes \(100\)/,
    ],
    [
      { spool: { dir: '/s', maxBytes: 10 }, batch: { maxBytes: 100 } },
      /spool.maxBytes \(10\) must be at least batch.maxBytes \(100\)/,
    ],
    [{ closeTimeout: 10_000 }, /closeTimeout must be a whole number of milliseconds from 0 to 9000/],
    [{ connectTimeout: 1.5 }, /connectTimeout must be a whole number of milliseconds/],
    [{ udp: { maxDatagram: 70_000 } }, /udp.maxDatagram must be a whole number of bytes from 512 to 65507/],
    [{ backoff: [] }, /appender option backoff must be a list of milliseconds/],
    [{ rateLimit: 'fast' }, /appender option rateLimit must be/],
    [{ tls: { cert: 'PEM' } }, /tls needs both cert and key/],
    [{ tls: { rejectUnauthorized: 'no' } }, /tls.rejectUnauthorized must be true or false/],
    [{ fallback: 3 }, /fallback must be "stderr" or a file path/],
    [{ spool: { maxBytes: 10 } }, /spool.dir must be a non-empty string/],
    [{ protocol: 'http' }, /protocol must be "logwire" or "ndjson"/],
    ['tcp/x:1', /options must be an object/],
  ])('refuses %j naming the path', (input, message) => {
    expect(() => parseAppenderOptions(input)).toThrow(badOption(message));
  });
});

describe('toName', () => {
  it('always gives a protocol name (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (text) => {
        expect(toName(text)).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
      }),
    );
  });

  it('keeps a valid name as it is', () => {
    expect(toName('api-gateway.v2_x')).toBe('api-gateway.v2_x');
  });
});

describe('scriptName', () => {
  it("is the main script's base name without extension", () => {
    expect(scriptName(['node', '/srv/app/server.mjs'])).toBe('server');
    expect(scriptName(['node'])).toBe('node');
  });
});
