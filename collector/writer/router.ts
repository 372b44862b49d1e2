/**
 * Which output, and where in it, a batch goes: today one output, the path from the `path`
 * template (live: RELOAD replaces it). A route the template cannot expand goes to
 * _rejected.log, with the reason logged.
 */

import type { Output } from '../outputs/output.js';
import type { PathTemplate } from '../outputs/path-template.js';
import { REJECTED_PATH } from '../outputs/rejected-file.js';
import type { Route } from './write-job.js';

export interface Destination {
  readonly output: Output;
  readonly path: string;
}

export class Router {
  template: PathTemplate;
  readonly #output: Output;
  readonly #onError: (error: unknown) => void;

  constructor(template: PathTemplate, output: Output, onError: (error: unknown) => void) {
    this.template = template;
    this.#output = output;
    this.#onError = onError;
  }

  /** Every output a tick may write to. */
  get outputs(): readonly Output[] {
    return [this.#output];
  }

  route(route: Route, now: number): Destination {
    try {
      return { output: this.#output, path: this.template.expand(route, now) };
    } catch (error) {
      this.#onError(error);
      return { output: this.#output, path: REJECTED_PATH };
    }
  }

  /** Readies the destination of a new session's route (Output.prepare); never fails. */
  prepare(route: Route, now: number): void {
    let path: string;
    try {
      path = this.template.expand(route, now);
    } catch {
      return; // the first batch routes to _rejected.log and reports why
    }
    this.#output.prepare(path);
  }
}
