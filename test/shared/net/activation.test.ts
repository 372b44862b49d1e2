import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LogwireError } from '../../../shared/errors.js';
import { activatedDescriptor } from '../../../shared/net/activation.js';
import { connectLink } from '../../../shared/net/connect.js';
import type { Link } from '../../../shared/net/link.js';
import { type Listener, listen } from '../../../shared/net/listener.js';
import { Messenger } from '../../../shared/net/messenger.js';
import { parseAddress } from '../../../shared/protocol/address.js';
import { message } from '../../../shared/protocol/message.js';
import { LinkInbox, recordMessages, tempDir, until } from '../../helpers/net-fixtures.js';

const PID = 4242;

describe('activatedDescriptor', () => {
  const env = (vars: Record<string, string>): NodeJS.ProcessEnv => ({ ...vars });
  const fails = (text: string, vars: Record<string, string>, pid = PID): LogwireError => {
    try {
      activatedDescriptor(parseAddress(text), env(vars), pid);
    } catch (err) {
      expect(err).toBeInstanceOf(LogwireError);
      expect((err as LogwireError).code).toBe('LW_ERR_LISTEN');
      return err as LogwireError;
    }
    throw new Error('expected a failure');
  };

  it.each([
    ['tcp/systemd#0', { LISTEN_FDS: '1', LISTEN_PID: String(PID) }, 3],
    ['udp/systemd#2', { LISTEN_FDS: '3' }, 5],
    ['tcp/systemd#logs', { LISTEN_FDS: '3', LISTEN_FDNAMES: 'control:logs:udp' }, 4],
    ['ws/systemd#web/logs', { LISTEN_FDS: '1', LISTEN_FDNAMES: 'web', LISTEN_PID: '' }, 3],
  ])('%s with %j is fd %i', (text, vars, fd) => {
    expect(activatedDescriptor(parseAddress(text), env(vars), PID)).toBe(fd);
  });

  it('refuses descriptors meant for another process', () => {
    expect(fails('tcp/systemd#0', { LISTEN_FDS: '1', LISTEN_PID: '1' }).message).toContain('LISTEN_PID is 1');
  });

  it('says when nothing was handed over', () => {
    expect(fails('tcp/systemd#0', {}).message).toContain('LISTEN_FDS is not set');
    expect(fails('tcp/systemd#0', { LISTEN_FDS: 'x' }).message).toContain('LISTEN_FDS is "x"');
  });

  it('says when the index or the name is not there', () => {
    expect(fails('tcp/systemd#2', { LISTEN_FDS: '2' }).message).toContain('must be 0 to 1');
    expect(fails('tcp/systemd#web', { LISTEN_FDS: '2', LISTEN_FDNAMES: 'a:b' }).message).toContain(
      'no socket named "web" was handed over; names: a, b',
    );
  });
});

/**
 * `listen` on a real descriptor that no libuv handle in this process watches, as systemd's are:
 * a socket bound through Node's internal handle wrappers (bound, not listening, so nothing
 * accepts on it), whose fd number stands in for 3 + index with LISTEN_FDS to match. The
 * wrapper keeps its handle and is never closed (closing it would close our listener's fd a
 * second time); the spawned-child e2e test of the CLI covers fd 3 itself.
 */
interface RawHandle {
  readonly fd: number;
  bind(address: string, port: number, flags?: number): number;
  bind6(address: string, port: number, flags: number): number;
  getsockname(out: { port?: number }): number;
}
type Bindings = {
  tcp_wrap: { TCP: new (type: number) => RawHandle; constants: { SERVER: number } };
  udp_wrap: { UDP: new () => RawHandle };
  pipe_wrap: {
    Pipe: new (type: number) => RawHandle & { bind(path: string): number };
    constants: { SERVER: number };
  };
};
const binding = <K extends keyof Bindings>(name: K): Bindings[K] =>
  (process as unknown as { binding(n: string): Bindings[K] }).binding(name);

function inherit(fd: number, name = 'logs'): NodeJS.ProcessEnv {
  const index = fd - 3;
  const names = Array.from({ length: index + 1 }, (_, i) => (i === index ? name : 'other'));
  return { LISTEN_FDS: String(index + 1), LISTEN_FDNAMES: names.join(':'), LISTEN_PID: String(process.pid) };
}

describe('listen on a systemd socket', () => {
  const dir = tempDir('logwire-activation-');
  const listeners: Listener[] = [];
  const links: Link[] = [];

  afterEach(async () => {
    for (const l of links.splice(0)) l.destroy();
    await Promise.all(listeners.splice(0).map((l) => l.close()));
  });

  afterAll(() => dir.remove());

  async function roundTrip(
    listener: Listener,
    inbox: LinkInbox,
    log: () => ReturnType<typeof recordMessages>,
  ) {
    const link = await connectLink(listener.address);
    links.push(link);
    new Messenger(link).send(message('ALIVE', { serial: 7 }));
    await inbox.nth(0);
    const [msg] = await log().count(1);
    expect(msg).toMatchObject({ command: 'ALIVE', params: { serial: '7' } });
  }

  function collect(): {
    inbox: LinkInbox;
    onLink: (link: Link) => void;
    log: () => ReturnType<typeof recordMessages>;
  } {
    const inbox = new LinkInbox();
    let log: ReturnType<typeof recordMessages> | undefined;
    return {
      inbox,
      onLink: (link) => {
        links.push(link);
        log = recordMessages(new Messenger(link));
        inbox.onLink(link);
      },
      log: () => log!,
    };
  }

  it('takes a TCP socket by name and reports its real address', async () => {
    const { TCP, constants } = binding('tcp_wrap');
    const handle = new TCP(constants.SERVER);
    expect(handle.bind('127.0.0.1', 0)).toBe(0);
    const bound: { port?: number } = {};
    handle.getsockname(bound);
    const { inbox, onLink, log } = collect();
    const listener = await listen(parseAddress('tcp/systemd#logs'), { env: inherit(handle.fd) }, onLink);
    listeners.push(listener);
    expect(listener.address).toEqual({ scheme: 'tcp', host: '127.0.0.1', port: bound.port });
    await roundTrip(listener, inbox, log);
  });

  it('takes a WebSocket listener over an inherited TCP socket', async () => {
    const { TCP, constants } = binding('tcp_wrap');
    const handle = new TCP(constants.SERVER);
    expect(handle.bind('127.0.0.1', 0)).toBe(0);
    const { inbox, onLink, log } = collect();
    const fd = handle.fd;
    const listener = await listen(parseAddress(`ws/systemd#${fd - 3}/logs`), { env: inherit(fd) }, onLink);
    listeners.push(listener);
    expect(listener.address).toMatchObject({ scheme: 'ws', host: '127.0.0.1', path: '/logs' });
    await roundTrip(listener, inbox, log);
  });

  it('takes a Unix socket, whose peers are local (named after the address: net cannot tell its path)', async () => {
    const { Pipe, constants } = binding('pipe_wrap');
    const handle = new Pipe(constants.SERVER);
    const path = join(dir.path, 'activated.sock');
    expect(handle.bind(path)).toBe(0);
    const { inbox, onLink, log } = collect();
    const listener = await listen(parseAddress('unix/systemd#logs'), { env: inherit(handle.fd) }, onLink);
    listeners.push(listener);
    expect(listener.address).toEqual({ scheme: 'unix', activation: { name: 'logs' } });
    const link = await connectLink(parseAddress(`unix/${path}`));
    links.push(link);
    new Messenger(link).send(message('ALIVE', { serial: 7 }));
    expect((await inbox.nth(0)).peer).toMatchObject({
      transport: 'unix',
      local: true,
      remote: 'unix/systemd#logs',
    });
    expect((await log().count(1))[0]).toMatchObject({ command: 'ALIVE' });
  });

  it('takes a UDP socket (dgram bind({ fd }), IPv6 here)', async () => {
    const { UDP } = binding('udp_wrap');
    const handle = new UDP();
    expect(handle.bind6('::1', 0, 0)).toBe(0);
    const bound: { port?: number } = {};
    handle.getsockname(bound);
    const { inbox, onLink, log } = collect();
    const listener = await listen(parseAddress('udp/systemd#logs'), { env: inherit(handle.fd) }, onLink);
    listeners.push(listener);
    expect(listener.address).toEqual({ scheme: 'udp', host: '::1', port: bound.port });
    const sender = createSocket('udp6');
    sender.send('ALIVE serial=7', bound.port, '::1');
    await inbox.nth(0);
    await until(() => log().messages.length === 1, 'the datagram');
    expect(log().messages[0]).toMatchObject({ command: 'ALIVE', params: { serial: '7' } });
    sender.close();
  });

  it('fails with LW_ERR_LISTEN when the variables do not name a socket', async () => {
    const err = await listen(parseAddress('tcp/systemd#0'), { env: {} }, () => {}).then(
      () => undefined,
      (e: unknown) => e as LogwireError,
    );
    expect(err?.code).toBe('LW_ERR_LISTEN');
  });
});
