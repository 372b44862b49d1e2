/**
 * A JetStream cluster on loopback for tests: `nats-server -js` nodes, each with its own store
 * directory and config file. Cluster route ports must be fixed in the config, so every port is
 * picked by binding port 0 and closing just before the start; a node that loses that race
 * (address in use) is started again on new ports. Ready means: the meta leader answers
 * `$JS.API.INFO` through the client.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

export const NATS_SERVER = process.env.NATS_SERVER ?? '/usr/sbin/nats-server';

export interface NatsNode {
  readonly name: string;
  readonly url: string;
  child: ChildProcess | undefined;
  log: string;
}

import { freePort } from './net-fixtures.js';

export { freePort };

export class NatsCluster {
  readonly nodes: NatsNode[] = [];
  readonly #dir: string;
  readonly #ports = new Map<string, { client: number; route: number }>();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /** Starts `size` nodes (1: no cluster block) and waits for JetStream to answer. */
  static async start(dir: string, size: number): Promise<NatsCluster> {
    for (let attempt = 0; ; attempt++) {
      const cluster = new NatsCluster(dir);
      try {
        await cluster.#startAll(size);
        return cluster;
      } catch (error) {
        await cluster.stop();
        if (attempt >= 3 || !/in use/i.test(String(error))) throw error;
      }
    }
  }

  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  async #startAll(size: number): Promise<void> {
    for (let i = 1; i <= size; i++)
      this.#ports.set(`n${i}`, { client: await freePort(), route: await freePort() });
    for (const [name, ports] of this.#ports)
      this.nodes.push({ name, url: `nats://127.0.0.1:${ports.client}`, child: undefined, log: '' });
    await Promise.all(this.nodes.map((node) => this.#spawn(node, size)));
    await this.waitForJetStream();
  }

  #spawn(node: NatsNode, size: number): Promise<void> {
    const ports = this.#ports.get(node.name)!;
    const store = join(this.#dir, node.name);
    mkdirSync(store, { recursive: true });
    const routes = [...this.#ports]
      .filter(([name]) => name !== node.name)
      .map(([, p]) => `"nats-route://127.0.0.1:${p.route}"`);
    const config = [
      `server_name: ${node.name}`,
      `listen: "127.0.0.1:${ports.client}"`,
      `jetstream { store_dir: "${store}" }`,
      size > 1
        ? `cluster { name: "lw", listen: "127.0.0.1:${ports.route}", routes: [${routes.join(', ')}] }`
        : '',
    ].join('\n');
    const file = join(this.#dir, `${node.name}.conf`);
    writeFileSync(file, config);
    const child = spawn(NATS_SERVER, ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    node.child = child;
    node.log = '';
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        node.log += chunk.toString();
        if (node.log.includes('Server is ready')) resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) =>
        reject(new Error(`nats-server ${node.name} exited ${code}:\n${node.log}`)),
      );
    });
  }

  /** Polls `$JS.API.INFO` until a meta leader answers (each try waits for its own reply). */
  async waitForJetStream(ms = 30_000): Promise<void> {
    const nc = await connect({ servers: this.urls.filter((_, i) => this.nodes[i]!.child !== undefined) });
    const deadline = Date.now() + ms;
    try {
      for (;;) {
        try {
          const jsm = await jetstreamManager(nc, { timeout: 1_000 });
          await jsm.getAccountInfo();
          return;
        } catch (error) {
          if (Date.now() > deadline) throw new Error(`JetStream not ready: ${String(error)}`);
        }
      }
    } finally {
      await nc.close();
    }
  }

  /** The node that leads `stream`'s Raft group. */
  async streamLeader(stream: string): Promise<NatsNode> {
    const nc = await connect({ servers: this.urls.filter((_, i) => this.nodes[i]!.child !== undefined) });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(stream);
      const leader = info.cluster?.leader;
      const node = this.nodes.find((n) => n.name === leader);
      if (node === undefined) throw new Error(`stream ${stream} has no leader (${String(leader)})`);
      return node;
    } finally {
      await nc.close();
    }
  }

  async kill(node: NatsNode): Promise<void> {
    const child = node.child;
    node.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  /** Starts a killed node again on its ports and store. */
  async restart(node: NatsNode): Promise<void> {
    await this.#spawn(node, this.nodes.length);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => this.kill(node)));
  }
}
