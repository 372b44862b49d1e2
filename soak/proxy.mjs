/**
 * A TCP (or Unix socket) relay between an app and the collector, so the soak can break the
 * network path the way a real one breaks:
 *
 *   forwarding ──cut()──▶ every link reset (RST), new links still forwarded
 *   forwarding ──blackHole()──▶ black-holed: nothing flows either way, links stay open
 *   black-holed ──restore()──▶ forwarding (held bytes flow again, as TCP would retransmit them)
 *
 * A black hole pauses both sockets instead of dropping bytes: on a real path TCP retransmits
 * what was lost, so the stream is delayed, never corrupted.
 */

import net from 'node:net';

const TRANSITIONS = {
  forwarding: { blackHole: 'black-holed', cut: 'forwarding' },
  'black-holed': { restore: 'forwarding' },
};

/** An RST on TCP; a Unix socket has none, so it is closed. */
function reset(socket) {
  if (socket.remoteFamily === undefined) socket.destroy();
  else socket.resetAndDestroy();
}

export class PathProxy {
  /** listen: { port } or { path }; upstream: { port, host } or { path }. */
  constructor(listen, upstream) {
    this.listenAt = listen;
    this.upstream = upstream;
    this.state = 'forwarding';
    this.links = new Set();
    this.server = net.createServer((client) => this.#accept(client));
  }

  async start() {
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.listenAt, resolve);
    });
  }

  #move(event) {
    const next = TRANSITIONS[this.state][event];
    if (next === undefined) throw new Error(`proxy: ${event} while ${this.state}`);
    this.state = next;
  }

  #accept(client) {
    const link = { client, server: undefined };
    this.links.add(link);
    client.on('error', () => {});
    client.once('close', () => {
      this.links.delete(link);
      link.server?.destroy();
    });
    client.pause();
    if (this.state === 'forwarding') this.#connect(link);
  }

  #connect(link) {
    const server = net.connect(this.upstream);
    link.server = server;
    server.on('error', () => link.client.destroy());
    server.once('close', () => link.client.destroy());
    server.once('connect', () => {
      if (this.state === 'forwarding') this.#flow(link);
    });
  }

  #flow(link) {
    link.client.pipe(link.server);
    link.server.pipe(link.client);
  }

  /** Resets every open link, as a router that drops the connection state would. */
  cut() {
    this.#move('cut');
    const cut = this.links.size;
    for (const link of this.links) {
      reset(link.client);
      if (link.server !== undefined) reset(link.server);
    }
    return cut;
  }

  /** Stops forwarding: open links stall, new ones get no answer from upstream. */
  blackHole() {
    this.#move('blackHole');
    // Unpiped, not only paused: a pipe resumes its source on the next 'drain'.
    for (const link of this.links) {
      link.client.unpipe();
      link.server?.unpipe();
      link.client.pause();
      link.server?.pause();
    }
  }

  /** Forwards again, held links included. */
  restore() {
    this.#move('restore');
    for (const link of this.links) {
      if (link.client.destroyed) continue;
      if (link.server === undefined) this.#connect(link);
      else if (link.server.readyState === 'open') this.#flow(link);
    }
  }

  async close() {
    for (const link of this.links) {
      link.client.destroy();
      link.server?.destroy();
    }
    await new Promise((resolve) => this.server.close(resolve));
  }
}
