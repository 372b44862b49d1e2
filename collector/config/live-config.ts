/** The running collector's configuration: one value every part reads at each use; RELOAD replaces it. */

import type { CollectorConfig } from './config-types.js';

export class LiveConfig {
  #current: CollectorConfig;

  constructor(initial: CollectorConfig) {
    this.#current = initial;
  }

  get current(): CollectorConfig {
    return this.#current;
  }

  /** A reader for the parts: `() => config`, live. */
  readonly read = (): CollectorConfig => this.#current;

  replace(next: CollectorConfig): void {
    this.#current = next;
  }
}
