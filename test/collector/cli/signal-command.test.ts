import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { runSignal, type SignalOptions } from '../../../collector/cli/signal-command.js';
import { LogwireError } from '../../../shared/errors.js';
import { ManualClock } from '../../../shared/net/clock.js';
import type { ConnectOptions } from '../../../shared/net/connect.js';
import { type Address, formatAddress } from '../../../shared/protocol/address.js';
import { testCert } from '../../helpers/certs.js';

/** A loopback server that hands each received line to `answer` and writes back what it returns. */
class LineServer extends EventEmitter<{ line: [string] }> {
  readonly server: Server;
  readonly lines: string[] = [];
  readonly sockets = new Set<Socket>();

  constructor(answer: (line: string, socket: Socket) => string | undefined) {
    super();
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
      let buffered = '';
      socket.on('data', (chunk) => {
        buffered += chunk.toString('utf8');
        for (let lf = buffered.indexOf('\n'); lf >= 0; lf = buffered.indexOf('\n')) {
          const line = buffered.slice(0, lf);
          buffered = buffered.slice(lf + 1);
          this.lines.push(line);
          this.emit('line', line);
          const out = answer(line, socket);
          if (out !== undefined) socket.write(out);
        }
      });
    });
  }

  async listen(target: number | string = 0): Promise<void> {
    this.server.listen(typeof target === 'number' ? { host: '127.0.0.1', port: target } : { path: target });
    await once(this.server, 'listening');
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    if (this.server.listening) await new Promise((resolve) => this.server.close(resolve));
  }
}

function output(): { write(text: string): boolean; text: string } {
  return {
    text: '',
    write(text: string) {
      this.text += text;
      return true;
    },
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(answer: (line: string, socket: Socket) => string | undefined): Promise<LineServer> {
  const s = new LineServer(answer);
  cleanups.push(() => s.close());
  await s.listen();
  return s;
}

async function signal(options: SignalOptions, clock?: ManualClock) {
  const stdout = output();
  const stderr = output();
  const result = await runSignal(options, { stdout, stderr, ...(clock ? { clock } : {}) });
  return { ...result, stdout: stdout.text, stderr: stderr.text };
}

describe('runSignal', () => {
  describe('over tcp', () => {
    it('exits 0 on OK and prints the reply with --reply', async () => {
      const s = await server((line) => `OK command=${line.split(' ')[0]}\n`);
      const r = await signal({ host: `tcp/127.0.0.1:${s.port}`, reply: true, command: 'LOG' });
      expect(r).toMatchObject({
        exitCode: 0,
        reply: 'OK command=LOG',
        stdout: 'OK command=LOG\n',
        stderr: '',
      });
      expect(s.lines).toEqual(['LOG']);
    });

    it('prints nothing on stdout without --reply', async () => {
      const s = await server(() => 'COMMANDS list=LOG,STOP\n');
      const r = await signal({ host: `tcp/127.0.0.1:${s.port}`, command: 'HELP' });
      expect(r).toMatchObject({ exitCode: 0, reply: 'COMMANDS list=LOG,STOP', stdout: '' });
    });

    it('sends the destination and parameters, and --type supplies the scheme', async () => {
      const s = await server(() => 'ABSOLUTELY serial=1\n');
      const r = await signal({
        host: `127.0.0.1:${s.port}`,
        type: 'tcp',
        param: ['serial=1', 'note=a;b'],
        command: 'box:logwire/ALIVE',
      });
      expect(r.exitCode).toBe(0);
      expect(s.lines).toEqual(['box:logwire/ALIVE serial=1;note="a;b"']);
    });

    it('skips messages that are not replies before the answer', async () => {
      const s = await server(() => 'PAUSE\nOK command=LOG\n');
      expect((await signal({ host: `tcp/$4:${s.port}`, command: 'LOG' })).exitCode).toBe(0);
    });

    it.each([
      ['UNAUTHORIZED command=STOP'],
      ['INVALID command=STOP;reason=bad_param'],
      ['UNKNOWN command=STOP'],
    ])('exits 2 when refused with %s', async (answer) => {
      const s = await server(() => `${answer}\n`);
      const r = await signal({ host: `tcp/127.0.0.1:${s.port}`, reply: true, command: 'STOP' });
      expect(r).toMatchObject({ exitCode: 2, reply: answer, stdout: `${answer}\n` });
      expect(r.stderr).toContain(`STOP refused: ${answer}`);
    });

    it('exits 3 when nothing answers within the timeout', async () => {
      const clock = new ManualClock();
      const s = await server(() => undefined);
      const received = once(s, 'line');
      const pending = signal({ host: `tcp/127.0.0.1:${s.port}`, timeout: '250', command: 'LOG' }, clock);
      await received;
      clock.advance(250);
      const r = await pending;
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toBe(
        `logwire signal: no collector answered at tcp/127.0.0.1:${s.port} within 250 ms\n`,
      );
      expect(clock.pending).toBe(0);
      // The tool let go of its connection.
      await expect.poll(() => s.sockets.size).toBe(0);
    });

    it('exits 3 when the peer closes without answering', async () => {
      const s = await server((_line, socket) => {
        socket.end();
        return undefined;
      });
      const r = await signal({ host: `tcp/127.0.0.1:${s.port}`, command: 'LOG' });
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toContain(
        `no collector answered at tcp/127.0.0.1:${s.port}: it closed the connection`,
      );
    });

    it('exits 3 when nothing listens', async () => {
      const s = await server(() => undefined);
      const port = s.port;
      await s.close();
      const r = await signal({ host: `tcp/127.0.0.1:${port}`, command: 'LOG' });
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toContain(
        `logwire signal: no collector answered at tcp/127.0.0.1:${port}: connection refused`,
      );
    });

    it('goes to tcp/127.0.0.1:4043 by default and says so when nobody is there', async () => {
      const asked: Address[] = [];
      const stderr = output();
      const r = await runSignal(
        { command: 'LOG' },
        {
          stdout: output(),
          stderr,
          connect: async (address: Address) => {
            asked.push(address);
            throw new LogwireError('LW_ERR_CONNECT', `connect ${formatAddress(address)}: connection refused`);
          },
        },
      );
      expect(r.exitCode).toBe(3);
      expect(asked.map((a) => formatAddress(a))).toEqual(['tcp/127.0.0.1:4043']);
      expect(stderr.text).toBe(
        'logwire signal: no collector answered at tcp/127.0.0.1:4043: connection refused\n',
      );
    });

    it('prints the keys and the reason of a refused RELOAD, and exits 2', async () => {
      const answer = 'INVALID command=RELOAD;reason=restart_needed;key=max_body,listen';
      const s = await server(() => `${answer}\n`);
      const r = await signal({ host: `tcp/127.0.0.1:${s.port}`, command: 'RELOAD' });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toBe(
        `logwire signal: RELOAD refused: ${answer}\n` +
          'logwire signal: max_body, listen cannot change without restarting the collector (reason=restart_needed)\n',
      );
    });

    it('prints the configuration error of a refused RELOAD', async () => {
      const s = await server(
        () =>
          'INVALID command=RELOAD;reason=bad_config;error="c.toml: format must be \\"json\\"; got yaml"\n',
      );
      const r = await signal({ host: `tcp/127.0.0.1:${s.port}`, command: 'RELOAD' });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(
        'logwire signal: reason=bad_config: c.toml: format must be "json"; got yaml\n',
      );
    });
  });

  describe('over tls', () => {
    async function tlsServer(): Promise<{ port: number; lines: string[] }> {
      const { cert, key } = testCert();
      const lines: string[] = [];
      const tls = createTlsServer({ cert, key }, (socket) => {
        socket.on('error', () => {});
        socket.on('data', (chunk) => {
          lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
          socket.write('OK command=STOP\n');
        });
      });
      tls.on('tlsClientError', () => {});
      tls.listen(0, '127.0.0.1');
      await once(tls, 'listening');
      cleanups.push(() => new Promise<void>((resolve) => tls.close(() => resolve())));
      return { port: (tls.address() as AddressInfo).port, lines };
    }

    it('trusts the certificates of --ca, and sends the secret', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'logwire-signal-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      await writeFile(join(dir, 'ca.pem'), testCert().cert);
      const t = await tlsServer();
      const host = `tls/127.0.0.1:${t.port}`;
      const untrusted = await signal({ host, secretCode: 's3', command: 'STOP' });
      expect(untrusted.exitCode).toBe(3);
      expect(untrusted.stderr).toContain(`no collector answered at ${host}: `);
      expect(t.lines).toEqual([]);
      const r = await signal({ host, ca: join(dir, 'ca.pem'), secretCode: 's3', command: 'STOP' });
      expect(r).toMatchObject({ exitCode: 0, reply: 'OK command=STOP', stderr: '' });
      expect(t.lines).toEqual(['STOP secret_code=s3']);
    });

    it('passes --ca to the connection as its trusted certificates', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'logwire-signal-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      await writeFile(join(dir, 'ca.pem'), 'PEM TEXT');
      let given: ConnectOptions | undefined;
      await runSignal(
        { host: 'tls/127.0.0.1:1', ca: join(dir, 'ca.pem'), command: 'LOG' },
        {
          stdout: output(),
          stderr: output(),
          connect: async (_address: Address, options?: ConnectOptions) => {
            given = options;
            throw new LogwireError('LW_ERR_CONNECT', 'connect: nope');
          },
        },
      );
      expect(given?.tls?.ca).toBe('PEM TEXT');
    });
  });

  describe('over a unix socket', () => {
    it('exits 0 on OK', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'logwire-signal-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      const s = new LineServer(() => 'OK command=LOG_ROTATE\n');
      cleanups.push(() => s.close());
      await s.listen(join(dir, 'c.sock'));
      const r = await signal({ host: join(dir, 'c.sock'), type: 'unix', command: 'LOG_ROTATE' });
      expect(r.exitCode).toBe(0);
      expect(s.lines).toEqual(['LOG_ROTATE']);
    });
  });

  describe('over udp', () => {
    async function udpServer(): Promise<UdpSocket> {
      const socket = createSocket('udp4');
      cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
      socket.bind(0, '127.0.0.1');
      await once(socket, 'listening');
      return socket;
    }

    it('sends one datagram and exits 0', async () => {
      const socket = await udpServer();
      const received = once(socket, 'message');
      const port = socket.address().port;
      const r = await signal({ host: `udp/127.0.0.1:${port}`, param: ['why=rotate'], command: 'LOG' });
      expect(r).toMatchObject({ exitCode: 0, stdout: '' });
      expect(r.stderr).toBe(
        `logwire signal: LOG sent to udp/127.0.0.1:${port} as one datagram; nothing confirms that a ` +
          'collector received it (a tcp or unix --host waits for the answer)\n',
      );
      const [datagram] = (await received) as [Buffer];
      expect(datagram.toString('utf8')).toBe('LOG why=rotate\n');
    });

    it('uses udp with --type udp and no --host scheme', async () => {
      const socket = await udpServer();
      const received = once(socket, 'message');
      const r = await signal({ host: `$4:${socket.address().port}`, type: 'udp', command: 'logwire/LOG' });
      expect(r.exitCode).toBe(0);
      expect(((await received) as [Buffer])[0].toString('utf8')).toBe('logwire/LOG\n');
    });
  });

  describe('usage errors', () => {
    it.each<[string, SignalOptions, RegExp]>([
      [
        '--secret-code over tcp',
        { host: 'tcp/127.0.0.1:1', secretCode: 's', command: 'STOP' },
        /only over tls/,
      ],
      [
        '--secret-code over udp',
        { host: 'udp/$4:1', secretCode: 's', command: 'STOP' },
        /--secret-code is sent only over tls.*not udp/,
      ],
      [
        '--secret-code to the default host',
        { secretCode: 's', command: 'STOP' },
        /--secret-code is sent only over tls.*not tcp/,
      ],
      [
        '--ca over tcp',
        { host: 'tcp/$4:1', ca: '/nonexistent.pem', command: 'LOG' },
        /--ca is for tls only, not tcp/,
      ],
      [
        'an unreadable --ca',
        { host: 'tls/$4:1', ca: '/nonexistent/ca.pem', command: 'LOG' },
        /--ca \/nonexistent\/ca.pem cannot be read \(ENOENT\)/,
      ],
      [
        'secret_code as --param',
        { host: 'tcp/$4:1', param: ['secret_code=s'], command: 'STOP' },
        /only over tls/,
      ],
      ['a bad --type', { type: 'ws', command: 'LOG' }, /--type must be one of udp, tcp, unix, tls/],
      ['--type unix without --host', { type: 'unix', command: 'LOG' }, /--type unix needs --host/],
      [
        '--type against the scheme of --host',
        { host: 'tcp/$4:1', type: 'udp', command: 'LOG' },
        /contradicts/,
      ],
      ['a scheme signal does not speak', { host: 'ws/$4:1/x', command: 'LOG' }, /not ws/],
      ['a bad address', { host: 'tcp/$4:99999', command: 'LOG' }, /--host: address .*above 65535/],
      [
        'an address without a scheme',
        { host: '127.0.0.1:1', command: 'LOG' },
        /or give the scheme with --type/,
      ],
      ['a lowercase command', { command: 'log' }, /UPPERCASE.*did you mean LOG\?/],
      ['a command with spaces', { command: 'LOG x=1' }, /COMMAND must be/],
      ['an origin', { command: '<a:b' }, /COMMAND must be/],
      ['a --param without =', { param: ['nope'], command: 'LOG' }, /--param "nope" must be NAME=VALUE/],
      ['a --param named bytes', { param: ['bytes=3'], command: 'LOG' }, /bytes is reserved/],
      [
        'a bad --timeout',
        { timeout: '5s', command: 'LOG' },
        /--timeout must be a whole number of milliseconds/,
      ],
      ['a zero --timeout', { timeout: 0, command: 'LOG' }, /--timeout/],
    ])('exits 1 for %s', async (_name, options, expected) => {
      const r = await signal(options);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(expected);
    });

    it('never echoes the secret', async () => {
      const r = await signal({ host: 'tcp/127.0.0.1:1', secretCode: 'hunter2', command: 'STOP' });
      expect(r.stderr).not.toContain('hunter2');
    });
  });
});
