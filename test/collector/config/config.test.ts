import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, suggest } from '../../../collector/config/config.js';
import { COLLECTOR_DEFAULTS } from '../../../collector/config/config-types.js';
import { LogwireError } from '../../../shared/errors.js';
import { formatAddress } from '../../../shared/protocol/address.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logwire-config-'));
  await writeFile(join(dir, 'cert.pem'), 'CERT');
  await writeFile(join(dir, 'key.pem'), 'KEY');
  await writeFile(join(dir, 'ca.pem'), 'CA');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
async function toml(text: string): Promise<string> {
  counter += 1;
  const file = join(dir, `c${counter}.toml`);
  await writeFile(file, text);
  return file;
}

async function configError(promise: Promise<unknown>): Promise<LogwireError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LogwireError);
  expect((err as LogwireError).code).toBe('LW_ERR_CONFIG');
  return err as LogwireError;
}

describe('loadConfig', () => {
  describe('defaults', () => {
    it('listens on tcp and udp 127.0.0.1:4043 and writes to ./logs', async () => {
      const config = await loadConfig({ flags: {} }, dir);
      expect(config.listeners.map((l) => formatAddress(l.address))).toEqual([
        'tcp/127.0.0.1:4043',
        'udp/127.0.0.1:4043',
      ]);
      expect(config.output).toBe(join(dir, 'logs'));
      expect(config.state).toBe(join(dir, 'logs', '.state'));
      expect(config).toMatchObject({
        path: '{service}.log',
        format: 'json',
        fileMode: 0o640,
        dirMode: 0o750,
        durability: 'write',
        validate: 'shape',
        maxLine: COLLECTOR_DEFAULTS.maxLine,
        maxBody: COLLECTOR_DEFAULTS.maxBody,
        ackDelay: 10,
        maxSources: COLLECTOR_DEFAULTS.maxSources,
        sourceTtl: COLLECTOR_DEFAULTS.sourceTtl,
        maxConnections: COLLECTOR_DEFAULTS.maxConnections,
        idleTimeout: 0,
        handshakeTimeout: COLLECTOR_DEFAULTS.handshakeTimeout,
        registerTimeout: 10_000,
        maxOpenFiles: COLLECTOR_DEFAULTS.maxOpenFiles,
        fileIdleClose: COLLECTOR_DEFAULTS.fileIdleClose,
        pauseAbove: COLLECTOR_DEFAULTS.pauseAbove,
        trace: false,
      });
      expect(config.secretCode).toBeUndefined();
      expect(config.token).toBeUndefined();
    });

    it('returns a deeply frozen object', async () => {
      const config = await loadConfig({ flags: {} }, dir);
      expect(Object.isFrozen(config)).toBe(true);
      expect(Object.isFrozen(config.listeners)).toBe(true);
      expect(Object.isFrozen(config.listeners[0])).toBe(true);
      expect(Object.isFrozen(config.listeners[0]?.address)).toBe(true);
    });
  });

  describe('file', () => {
    it('reads every key', async () => {
      const file = await toml(`
output = "out"
state = "/var/lib/logwire"
path = "{host}/{service}.log"
format = "text"
file_mode = "0600"
dir_mode = 0o700
durability = "fsync"
validate = "full"
max_line = 1024
max_body = 2048
ack_delay = 5
max_sources = 7
source_ttl = 60000
max_connections = 9
idle_timeout = 30000
handshake_timeout = 2000
register_timeout = 1500
max_open_files = 3
file_idle_close = 1000
pause_above = 4096
secret_code = "s3cret"
token = "t0ken"
trace = true

[[listen]]
address = "tls/127.0.0.1:0"
tls_cert = "cert.pem"
tls_key = "key.pem"
tls_ca = "ca.pem"

[[listen]]
address = "unix/./logwire.sock"
unix_mode = "0600"
unix_group = "adm"

[[listen]]
address = "ndjson/$4:4045"
service = "nginx"

[[listen]]
address = "wss://127.0.0.1:4444/logs"
tls_cert = "cert.pem"
tls_key = "key.pem"
`);
      const config = await loadConfig({ file, flags: {} }, dir);
      expect(config).toMatchObject({
        output: join(dir, 'out'),
        state: '/var/lib/logwire',
        path: '{host}/{service}.log',
        format: 'text',
        fileMode: 0o600,
        dirMode: 0o700,
        durability: 'fsync',
        validate: 'full',
        maxLine: 1024,
        maxBody: 2048,
        ackDelay: 5,
        maxSources: 7,
        sourceTtl: 60000,
        maxConnections: 9,
        idleTimeout: 30000,
        handshakeTimeout: 2000,
        registerTimeout: 1500,
        maxOpenFiles: 3,
        fileIdleClose: 1000,
        pauseAbove: 4096,
        secretCode: 's3cret',
        token: ['t0ken'],
        trace: true,
      });
      const [tls, unix, ndjson, wss] = config.listeners;
      expect(tls).toEqual({
        address: { scheme: 'tls', host: '127.0.0.1', port: 0 },
        service: 'ndjson',
        tls: { cert: 'CERT', key: 'KEY', ca: 'CA' },
      });
      expect(unix).toEqual({
        address: { scheme: 'unix', path: join(dir, 'logwire.sock') },
        service: 'ndjson',
        unix: { mode: 0o600, group: 'adm' },
      });
      expect(ndjson?.service).toBe('nginx');
      expect(formatAddress(ndjson!.address)).toBe('ndjson/127.0.0.1:4045');
      expect(wss?.tls).toEqual({ cert: 'CERT', key: 'KEY' });
      expect(wss?.address.path).toBe('/logs');
    });

    it('reads allow_origins of a ws listener in the form browsers send', async () => {
      const file = await toml(
        '[[listen]]\naddress = "ws/$4:0/logs"\nallow_origins = ["HTTPS://App.Example:443", "http://localhost:3000/"]',
      );
      const config = await loadConfig({ file, flags: {} }, dir);
      expect(config.listeners[0]?.allowOrigins).toEqual(['https://app.example', 'http://localhost:3000']);
    });

    it('takes the array form of listen and the owner-only default unix mode', async () => {
      const file = await toml(
        `allow = ["10.0.0.0/8"]\nlisten = ["udp/*4:5000", "tcp://[::1]:5001", "unix//tmp/x.sock"]`,
      );
      const config = await loadConfig({ file, flags: {} }, dir);
      expect(config.listeners.map((l) => formatAddress(l.address))).toEqual([
        'udp/0.0.0.0:5000',
        'tcp/[::1]:5001',
        'unix//tmp/x.sock',
      ]);
      expect(config.listeners[2]?.unix).toEqual({ mode: 0o600 });
    });

    it('puts state under the flag output when only --output is given', async () => {
      const file = await toml('output = "a"');
      const config = await loadConfig({ file, flags: { output: 'b' } }, dir);
      expect(config.output).toBe(join(dir, 'b'));
      expect(config.state).toBe(join(dir, 'b', '.state'));
    });

    it('names an unreadable file and a TOML syntax error with its line', async () => {
      const missing = await configError(loadConfig({ file: 'nope.toml', flags: {} }, dir));
      expect(missing.message).toMatch(/nope\.toml.*ENOENT/);
      const file = await toml('ack_delay = 5\nmax_line = \n');
      const bad = await configError(loadConfig({ file, flags: {} }, dir));
      expect(bad.message).toContain('line 2');
    });
  });

  describe('flags', () => {
    it('override the file', async () => {
      const file = await toml('output = "x"\nstate = "y"\ntrace = false\nlisten = ["tcp/127.0.0.1:7000"]');
      const config = await loadConfig(
        { file, flags: { output: '/o', state: 's', trace: true, listen: ['udp/127.0.0.1:0'] } },
        dir,
      );
      expect(config.output).toBe('/o');
      expect(config.state).toBe(join(dir, 's'));
      expect(config.trace).toBe(true);
      expect(config.listeners.map((l) => formatAddress(l.address))).toEqual(['udp/127.0.0.1:0']);
    });

    it('--listen replaces the default listeners', async () => {
      const config = await loadConfig({ flags: { listen: ['tcp/127.0.0.1:0', 'tcp/127.0.0.1:0'] } }, dir);
      expect(config.listeners.map((l) => formatAddress(l.address))).toEqual([
        'tcp/127.0.0.1:0',
        'tcp/127.0.0.1:0',
      ]);
    });

    it('--trace absent keeps the file value', async () => {
      const file = await toml('trace = true');
      expect((await loadConfig({ file, flags: { trace: false } }, dir)).trace).toBe(true);
    });

    it('a bad --listen names the flag', async () => {
      const err = await configError(loadConfig({ flags: { listen: ['bogus/1.2.3.4:1'] } }, dir));
      expect(err.message).toMatch(/^--listen: address "bogus\/1\.2\.3\.4:1": unknown scheme/);
    });

    it('refuses an empty --output', async () => {
      const err = await configError(loadConfig({ flags: { output: '' } }, dir));
      expect(err.message).toContain('--output');
    });
  });

  describe('errors', () => {
    it('names an unknown key and suggests the snake_case spelling', async () => {
      const file = await toml('ackDelay = 5');
      const err = await configError(loadConfig({ file, flags: {} }, dir));
      expect(err.message).toBe(
        `${file}: unknown key "ackDelay"; did you mean "ack_delay"? (keys are snake_case)`,
      );
    });

    it('suggests near misses inside [[listen]] and lists keys when nothing is near', async () => {
      const file = await toml('[[listen]]\naddress = "tcp/$4:1"\ntls_crt = "x"');
      const near = await configError(loadConfig({ file, flags: {} }, dir));
      expect(near.message).toBe(
        `${file}: listen[0]: unknown key "tls_crt"; did you mean "tls_cert"? (keys are snake_case)`,
      );
      const far = await configError(loadConfig({ file: await toml('banana = 1'), flags: {} }, dir));
      expect(far.message).toMatch(/unknown key "banana"; the keys are listen, output, /);
    });

    it.each([
      [
        'ack_delay = -1',
        /ack_delay must be a whole number of milliseconds, at least 0, like ack_delay = 10 \(got -1\)/,
      ],
      ['max_body = 1.5', /max_body must be a whole number of bytes, at least 1/],
      ['max_line = "64k"', /max_line must be a whole number of bytes.*\(got "64k"\)/],
      ['source_ttl = 0', /source_ttl must be a whole number of milliseconds, at least 1/],
      ['format = "xml"', /format must be one of "json", "text" \(got "xml"\)/],
      ['durability = true', /durability must be one of "write", "fsync" \(got true\)/],
      ['validate = "strict"', /validate must be one of "shape", "full"/],
      ['trace = "yes"', /trace must be true or false/],
      ['file_mode = "rw-r-----"', /file_mode must be an octal permission mode.*"0640"/],
      ['file_mode = 0o1777', /file_mode must be an octal permission mode/],
      ['file_mode = "0440"', /file_mode = 0440 leaves out the owner's 0200/],
      ['dir_mode = "0640"', /dir_mode = 0640 leaves out the owner's 0700/],
      ['output = 3', /output must be a directory path/],
      ['path = "/etc/passwd"', /path must be a relative file name template/],
      ['path = "../{service}.log"', /path must be a relative file name template/],
      ['token = ""', /token must be a non-empty string/],
      ['secret_code = 42', /secret_code must be a non-empty string \(got number\)/],
      ['listen = "tcp/$4:1"', /listen must be an array of addresses/],
      ['listen = []', /listen is empty/],
      ['[listen]\naddress = "tcp/$4:1"', /write \[\[listen\]\] with double brackets/],
      ['listen = [42]', /listen\[0\] must be an address string or a table \(got 42\)/],
      ['[[listen]]\nservice = "x"', /listen\[0\]\.address must be an address/],
      [
        '[[listen]]\naddress = "tcp/$4:1"\nservice = "x"',
        /service applies only to ndjson and http listeners/,
      ],
      ['[[listen]]\naddress = "ndjson/$4:1"\nservice = "_rejected"', /service must be a name/],
      [
        '[[listen]]\naddress = "tcp/$4:1"\ntls_cert = "cert.pem"',
        /tls_cert applies only to tls, wss and ndjson/,
      ],
      ['[[listen]]\naddress = "tcp/$4:1"\nunix_mode = "0600"', /unix_mode applies only to unix/],
      ['[[listen]]\naddress = "unix//tmp/s"\nunix_mode = "0066"', /unix_mode = 0066 leaves out/],
      [
        '[[listen]]\naddress = "tcp/$4:1"\nallow_origins = []',
        /allow_origins applies only to ws, wss and http/,
      ],
      ['[[listen]]\naddress = "ws/$4:1"\nallow_origins = "https://a.example"', /must be an array of origins/],
      ['[[listen]]\naddress = "ws/$4:1"\nallow_origins = ["https://a.example/app"]', /no path/],
      ['[[listen]]\naddress = "ws/$4:1"\nallow_origins = ["null"]', /no path \(got "null"\)/],
      ['[[listen]]\naddress = "unix//tmp/s"\nunix_group = "a b"', /unix_group must be a group name/],
      [
        '[[listen]]\naddress = "tls/$4:1"\ntls_cert = "missing.pem"\ntls_key = "key.pem"',
        /tls_cert: missing\.pem cannot be read \(ENOENT\)/,
      ],
      ['listen = ["tcp/$4:1", "tcp/127.0.0.1:1"]', /tcp\/127\.0\.0\.1:1 is given twice/],
    ])('refuses %s', async (text, expected) => {
      const file = await toml(text);
      const err = await configError(loadConfig({ file, flags: {} }, dir));
      expect(err.message).toMatch(expected);
      expect(err.message.startsWith(`${file}: `)).toBe(true);
    });

    it.each(['tls', 'ws', 'wss', 'ndjson'])('requires a port for %s', async (scheme) => {
      const err = await configError(loadConfig({ flags: { listen: [`${scheme}/127.0.0.1`] } }, dir));
      expect(err.message).toContain(`a ${scheme} address needs a port`);
      const file = await toml(`listen = ["${scheme}/127.0.0.1"]`);
      const fromFile = await configError(loadConfig({ file, flags: {} }, dir));
      expect(fromFile.message).toContain(`${file}: listen[0]: address`);
      expect(fromFile.cause).toBeInstanceOf(LogwireError);
    });

    it.each(['tls/127.0.0.1:0', 'wss/127.0.0.1:0/x'])(
      'requires a certificate and key for %s',
      async (text) => {
        const err = await configError(loadConfig({ flags: { listen: [text] } }, dir));
        expect(err.message).toMatch(/^--listen .*needs tls_cert and tls_key/);
        const file = await toml(`[[listen]]\naddress = "${text}"\ntls_cert = "cert.pem"`);
        const fromFile = await configError(loadConfig({ file, flags: {} }, dir));
        expect(fromFile.message).toContain(`${file}: listen[0] (${text}): a `);
      },
    );

    it('never echoes a secret in an error', async () => {
      const file = await toml('token = ["hunter2", 42]');
      const err = await configError(loadConfig({ file, flags: {} }, dir));
      expect(err.message).not.toContain('hunter2');
    });
  });
});

describe('suggest', () => {
  const known = ['ack_delay', 'max_line', 'max_body', 'file_mode'];

  it('maps camelCase and kebab-case to snake_case', () => {
    expect(suggest('ackDelay', known)).toBe('ack_delay');
    expect(suggest('max-line', known)).toBe('max_line');
    expect(suggest('MaxBody', known)).toBe('max_body');
  });

  it('finds a typo and ignores far-off words', () => {
    expect(suggest('ack_dealy', known)).toBe('ack_delay');
    expect(suggest('zebra', known)).toBeUndefined();
  });

  it('only ever suggests a known key', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (key) => {
        const s = suggest(key, known);
        expect(s === undefined || known.includes(s)).toBe(true);
      }),
    );
  });
});

describe('[[output]] and [[route]]', () => {
  const error = async (text: string): Promise<string> => {
    const caught = await loadConfig({ file: await toml(text), flags: {} }, dir).catch((e: unknown) => e);
    expect(caught).toBeInstanceOf(LogwireError);
    return (caught as LogwireError).message;
  };

  it('reads outputs and routes, with defaults', async () => {
    const config = await loadConfig(
      {
        file: await toml(`output_dir = "out"
format = "text"
[[output]]
name = "files"
path = "{service}.log"
[[output]]
name = "warn"
path = "{service}.warn.log"
format = "json"
required = false
[[route]]
match = { service = "checkout", level = ">= warn" }
to = ["warn"]
continue = true
[[route]]
to = ["files"]
`),
        flags: {},
      },
      dir,
    );
    expect(config.output).toBe(join(dir, 'out'));
    expect(config.outputs).toEqual([
      {
        type: 'file',
        name: 'files',
        path: '{service}.log',
        format: 'text',
        required: true,
        backlog: COLLECTOR_DEFAULTS.outputBacklog,
      },
      {
        type: 'file',
        name: 'warn',
        path: '{service}.warn.log',
        format: 'json',
        required: false,
        backlog: COLLECTOR_DEFAULTS.outputBacklog,
      },
    ]);
    expect(config.routes).toEqual([
      { service: ['checkout'], level: { op: '>=', value: 40 }, to: ['warn'], continue: true },
      { to: ['files'], continue: false },
    ]);
  });

  it('keeps the default single output without [[output]]; routes may name it "files"', async () => {
    const config = await loadConfig({ file: await toml('[[route]]\nto = ["files"]\n'), flags: {} }, dir);
    expect(config.outputs).toEqual([]);
    expect(config.routes).toEqual([{ to: ['files'], continue: false }]);
  });

  it('refuses a route to an unknown output, with "did you mean"', async () => {
    expect(await error('[[output]]\nname = "alerts"\npath = "a.log"\n[[route]]\nto = ["alert"]\n')).toMatch(
      /\[\[route\]\] #1: to names an unknown output "alert"; did you mean "alerts"\?/,
    );
  });

  it('refuses a route with no outputs, a bad level, and records left without an output', async () => {
    expect(await error('[[route]]\nto = []\n')).toMatch(/to must list at least one output/);
    expect(await error('[[route]]\nmatch = { level = ">= warning" }\nto = ["files"]\n')).toMatch(
      /match.level: "warning" is not a level name; did you mean "warn"\?/,
    );
    expect(await error('[[route]]\nmatch = { level = ">= warn" }\nto = ["files"]\n')).toMatch(
      /a record that matches no \[\[route\]\] would go nowhere/,
    );
    expect(await error('[[route]]\nmatch = { sevice = "x" }\nto = ["files"]\n')).toMatch(
      /did you mean "service"/,
    );
  });

  it('refuses duplicate names and paths, a bad type, and path beside [[output]]', async () => {
    const two = (a: string, b: string): string => `[[output]]\n${a}\n[[output]]\n${b}\n`;
    expect(await error(two('name = "a"\npath = "x.log"', 'name = "a"\npath = "y.log"'))).toMatch(/named "a"/);
    expect(await error(two('name = "a"\npath = "x.log"', 'name = "b"\npath = "x.log"'))).toMatch(
      /both write path/,
    );
    expect(await error('[[output]]\nname = "a"\ntype = "fille"\npath = "x.log"\n')).toMatch(
      /did you mean "file"/,
    );
    expect(await error('path = "{service}.log"\n[[output]]\nname = "a"\npath = "x.log"\n')).toMatch(
      /path is the default output's/,
    );
    expect(await error('[[output]]\nname = "a"\npath = "{servce}.log"\n')).toMatch(/\[\[output\]\] #1 "a":/);
  });
});
