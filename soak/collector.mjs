/**
 * The collector under test: the real CLI (dist/collector/cli/main.js), restarted on the same
 * fixed addresses after every kill, so the apps find it where they left it.
 *
 *   down ──start()──▶ running ──kill(SIGKILL) / stop(SIGTERM)──▶ down
 *   running ──pause()──▶ paused (SIGSTOP) ──resume()──▶ running
 *
 * An exit the soak did not cause is recorded in `unexpected`: the run fails on it.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

const TRANSITIONS = {
  down: { start: 'running' },
  running: { exit: 'down', pause: 'paused' },
  paused: { resume: 'running', exit: 'down' },
};

export class Collector {
  constructor({ main, config, listeners, logDir }) {
    this.main = main;
    this.config = config;
    this.listeners = listeners;
    this.logDir = logDir;
    this.state = 'down';
    this.incarnation = 0;
    this.unexpected = [];
    this.expectingExit = false;
  }

  #move(event) {
    const next = TRANSITIONS[this.state][event];
    if (next === undefined) throw new Error(`collector: ${event} while ${this.state}`);
    this.state = next;
  }

  /** Starts it and waits for every `listening` line. */
  async start() {
    this.incarnation += 1;
    const log = join(this.logDir, `collector-${this.incarnation}.log`);
    const child = spawn(process.execPath, [this.main, 'collector', '--config', this.config], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    this.logPath = log;
    const file = createWriteStream(log);
    child.stderr.pipe(file);
    this.expectingExit = false;
    this.exited = once(child, 'exit').then(([code, signal]) => {
      if (this.state !== 'down') this.#move('exit');
      if (!this.expectingExit) this.unexpected.push({ incarnation: this.incarnation, code, signal, log });
      return { code, signal };
    });
    let seen = 0;
    let text = '';
    await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`collector did not listen in 20 s; see ${log}`)),
        20_000,
      );
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk) => {
        text += chunk;
        seen = (text.match(/^listening /gm) ?? []).length;
        if (seen >= this.listeners) {
          clearTimeout(timer);
          resolve();
        }
      });
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`collector exited (${code ?? signal}) before listening; see ${log}`));
      });
    });
    this.#move('start');
    return child.pid;
  }

  async kill(signal) {
    this.expectingExit = true;
    if (this.state === 'paused') this.child.kill('SIGCONT');
    this.child.kill(signal);
    return this.exited;
  }

  pause() {
    this.#move('pause');
    this.child.kill('SIGSTOP');
  }

  resume() {
    this.#move('resume');
    this.child.kill('SIGCONT');
  }

  alive() {
    return this.state !== 'down';
  }
}
