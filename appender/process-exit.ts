import type { EventEmitter } from 'node:events';

/**
 * One 'exit' listener for every live appender. An in-process appender gets no close when the app
 * calls `process.exit()` (pino ends only transports), and 'exit' allows synchronous work alone:
 * each hook reports, synchronously, what it can no longer deliver (issue #4: never silently gone).
 * One shared listener, so that many appenders do not trip the max-listeners warning.
 */
export class ExitHooks {
  readonly #emitter: Pick<EventEmitter, 'on' | 'off'>;
  readonly #hooks = new Set<() => void>();
  readonly #run = (): void => {
    for (const hook of [...this.#hooks]) {
      this.#hooks.delete(hook);
      hook();
    }
  };

  constructor(emitter: Pick<EventEmitter, 'on' | 'off'>) {
    this.#emitter = emitter;
  }

  /** Runs `hook` at exit unless the returned function is called first. */
  add(hook: () => void): () => void {
    if (this.#hooks.size === 0) this.#emitter.on('exit', this.#run);
    this.#hooks.add(hook);
    return () => {
      if (this.#hooks.delete(hook) && this.#hooks.size === 0) this.#emitter.off('exit', this.#run);
    };
  }
}

const processExit = new ExitHooks(process);

/** Runs `hook` at process exit unless the returned function is called first. */
export function onProcessExit(hook: () => void): () => void {
  return processExit.add(hook);
}
