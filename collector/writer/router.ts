/**
 * Which outputs, and where in each, a batch goes. Each output has a name, its own path template
 * and its progress; the route table (route-rules.ts) picks outputs by service, and by level
 * when some rule tests it (then records are read one by one: level-split.ts). With one output
 * and no rules, every batch goes whole to it, as before routing existed. A path the template
 * cannot expand sends the batch to the output's rejected file, with the reason logged.
 */

import type { Output, RoutedBatch } from '../outputs/output.js';
import type { PathTemplate } from '../outputs/path-template.js';
import { REJECTED_PATH } from '../outputs/rejected-file.js';
import { splitByLevel } from './level-split.js';
import type { OptionalLane } from './optional-lane.js';
import { OutputProgress } from './output-progress.js';
import { DEFAULT_LEVEL } from './record-level.js';
import { RouteTable } from './route-rules.js';
import type { BatchJob, Route } from './write-job.js';

/** One configured output as the writer drives it. */
export interface OutputEntry {
  readonly name: string;
  readonly output: Output;
  /** Its path template; the default output's is live (RELOAD `path`). */
  template: PathTemplate;
  /** Where a batch whose path cannot be expanded goes. */
  readonly rejectedPath: string;
  readonly progress: OutputProgress;
  /** Optional outputs only: their backlog. */
  readonly lane?: OptionalLane;
}

/** One batch (or the part of it) for one output. */
export interface RoutedPiece {
  readonly entry: OutputEntry;
  readonly batch: RoutedBatch;
}

export class Router {
  readonly entries: readonly OutputEntry[];
  readonly #table: RouteTable;
  readonly #onError: (error: unknown) => void;

  constructor(entries: readonly OutputEntry[], table: RouteTable, onError: (error: unknown) => void) {
    this.entries = entries;
    this.#table = table;
    this.#onError = onError;
  }

  /** One required output taking every batch: the collector without [[output]] tables. */
  static single(
    template: PathTemplate,
    output: Output,
    onError: (error: unknown) => void,
    name = 'files',
  ): Router {
    const entry: OutputEntry = {
      name,
      output,
      template,
      rejectedPath: REJECTED_PATH,
      progress: new OutputProgress(name, true),
    };
    return new Router([entry], new RouteTable([], [name]), onError);
  }

  /** The first output's template (the default output's `path`, live through RELOAD). */
  get template(): PathTemplate {
    return this.entries[0]!.template;
  }

  set template(template: PathTemplate) {
    this.entries[0]!.template = template;
  }

  /** Every output a tick may write to. */
  get outputs(): readonly Output[] {
    return this.entries.map((entry) => entry.output);
  }

  /** The pieces of `job` (past its first `skip` records) for each output it goes to. */
  route(job: BatchJob, skip: number, now: number): RoutedPiece[] {
    const service = job.route.service;
    const split =
      this.#table.usesLevel && job.body !== undefined
        ? splitByLevel(job.body, job.count, skip, service, this.#table)
        : { mask: this.#table.targets(service, DEFAULT_LEVEL) };
    const pieces: RoutedPiece[] = [];
    if ('mask' in split) {
      // A record no rule sends anywhere cannot be: config checks leave every record an output.
      const mask = split.mask === 0 ? 1 : split.mask;
      for (let bits = mask; bits !== 0; bits &= bits - 1) {
        const entry = this.entries[31 - Math.clz32(bits & -bits)]!;
        const path = this.#path(entry, job.route, now);
        pieces.push({ entry, batch: { job, skip, path, body: job.body, count: job.count } });
      }
      return pieces;
    }
    for (const [index, part] of split.parts) {
      const entry = this.entries[index]!;
      const path = this.#path(entry, job.route, now);
      pieces.push({ entry, batch: { job, skip: 0, path, body: part.body, count: part.count } });
    }
    return pieces;
  }

  /** Readies each output's destination for a new session's route (Output.prepare); never fails. */
  prepare(route: Route, now: number): void {
    for (const entry of this.entries) {
      let path: string;
      try {
        path = entry.template.expand(route, now);
      } catch {
        continue; // the first batch routes to the rejected file and reports why
      }
      entry.output.prepare(path);
    }
  }

  #path(entry: OutputEntry, route: Route, now: number): string {
    try {
      return entry.template.expand(route, now);
    } catch (error) {
      this.#onError(error);
      return entry.rejectedPath;
    }
  }
}
