/**
 * The dispatcher's match table: exact commands, regular expressions and one catch-all, each with
 * a priority (higher first, then the order added) and a `callback` flag (an observer that lets
 * processing go on).
 *
 *   add() ──▶ rules: duplicates throw, regex/exact overlaps warn
 *        └─▶ plans: for each exact command, every match that applies to it, in order
 *   candidates(cmd) ──▶ plans.get(cmd)        one Map lookup, no regex run
 *                   └─▶ general (regex, any)  only for commands no exact match names
 *
 * Plans are rebuilt on add (rare) so that dispatch (hot) never sorts or tests a regex for a
 * command matched exactly, while priorities still order exact and regex matches together.
 */

import { LogwireError } from '../errors.js';

export type Matcher =
  | { readonly kind: 'exact'; readonly command: string }
  | { readonly kind: 'regex'; readonly regex: RegExp }
  | { readonly kind: 'any' };

export interface MatchOptions {
  /** Higher runs first; equal priorities run in the order added. Default 0. */
  readonly priority?: number;
  /** An observer: runs, then processing goes on to the next match. Default false. */
  readonly callback?: boolean;
}

export interface Match<H> {
  readonly matcher: Matcher;
  readonly handler: H;
  readonly priority: number;
  readonly callback: boolean;
  readonly order: number;
}

/** Higher priority first, then insertion order. Written out so that ±Infinity compare well. */
export function compareMatches<H>(a: Match<H>, b: Match<H>): number {
  if (a.priority !== b.priority) return a.priority > b.priority ? -1 : 1;
  return a.order - b.order;
}

export function accepts(matcher: Matcher, command: string): boolean {
  switch (matcher.kind) {
    case 'exact':
      return matcher.command === command;
    case 'regex':
      return matcher.regex.test(command);
    case 'any':
      return true;
  }
}

export function describeMatcher(matcher: Matcher): string {
  switch (matcher.kind) {
    case 'exact':
      return matcher.command;
    case 'regex':
      return String(matcher.regex);
    case 'any':
      return 'the catch-all';
  }
}

/** `g` and `y` make test() stateful (lastIndex): a copy without them always tests from 0. */
export function statelessRegex(regex: RegExp): RegExp {
  return regex.global || regex.sticky ? new RegExp(regex.source, regex.flags.replace(/[gy]/g, '')) : regex;
}

/**
 * The rules on duplicates apply to full matches only: two full matches on one command would
 * leave one of them dead, while callbacks (observers) may share a command with a full match.
 */
export class MatchTable<H> {
  readonly #warn: (message: string) => void;
  readonly #exactFull = new Set<string>();
  readonly #exact = new Map<string, Match<H>[]>();
  #general: Match<H>[] = [];
  #plans = new Map<string, readonly Match<H>[]>();
  #catchAll = false;
  #order = 0;
  #sortedFull: readonly string[] | undefined;

  constructor(warn: (message: string) => void) {
    this.#warn = warn;
  }

  add(matcher: Matcher, handler: H, options: MatchOptions = {}): Match<H> {
    const priority = options.priority ?? 0;
    if (typeof priority !== 'number' || Number.isNaN(priority)) {
      throw new LogwireError(
        'LW_ERR_BAD_OPTION',
        `dispatcher: priority of ${describeMatcher(matcher)} must be a number`,
      );
    }
    const callback = options.callback === true;
    if (matcher.kind === 'regex') matcher = { kind: 'regex', regex: statelessRegex(matcher.regex) };
    if (!callback) this.#checkFull(matcher);
    const match: Match<H> = Object.freeze({ matcher, handler, priority, callback, order: this.#order++ });
    if (matcher.kind === 'exact') {
      const list = this.#exact.get(matcher.command) ?? [];
      list.push(match);
      this.#exact.set(matcher.command, list);
      if (!callback) {
        this.#exactFull.add(matcher.command);
        this.#sortedFull = undefined;
      }
    } else {
      this.#general.push(match);
      this.#general.sort(compareMatches);
      if (matcher.kind === 'any' && !callback) this.#catchAll = true;
    }
    this.#rebuildPlans();
    return match;
  }

  /**
   * The matches to try for `command`, in order. When `exact` is true every one applies;
   * otherwise each must be tested with accepts().
   */
  candidates(command: string): { readonly list: readonly Match<H>[]; readonly exact: boolean } {
    const plan = this.#plans.get(command);
    return plan === undefined ? { list: this.#general, exact: false } : { list: plan, exact: true };
  }

  /** The commands with a full exact match, sorted (what HELP lists). */
  exactCommands(): readonly string[] {
    this.#sortedFull ??= Object.freeze([...this.#exactFull].sort());
    return this.#sortedFull;
  }

  #checkFull(matcher: Matcher): void {
    if (matcher.kind === 'exact') {
      if (this.#exactFull.has(matcher.command)) {
        throw duplicate(`command ${matcher.command} already has a handler`);
      }
      for (const m of this.#general) {
        if (!m.callback && m.matcher.kind === 'regex' && m.matcher.regex.test(matcher.command)) {
          this.#warn(
            `dispatcher: command ${matcher.command} is also matched by ${describeMatcher(m.matcher)}; ` +
              'the higher priority (then the first added) wins',
          );
        }
      }
      return;
    }
    if (matcher.kind === 'any') {
      if (this.#catchAll) throw duplicate('a catch-all is already set');
      return;
    }
    const { regex } = matcher;
    for (const m of this.#general) {
      if (
        !m.callback &&
        m.matcher.kind === 'regex' &&
        m.matcher.regex.source === regex.source &&
        m.matcher.regex.flags === regex.flags
      ) {
        throw duplicate(`${describeMatcher(matcher)} already has a handler`);
      }
    }
    const overlaps = [...this.#exactFull].filter((command) => regex.test(command));
    if (overlaps.length > 0) {
      this.#warn(
        `dispatcher: ${describeMatcher(matcher)} also matches command ${overlaps.join(', ')}, ` +
          'which has its own handler; the higher priority (then the first added) wins',
      );
    }
  }

  #rebuildPlans(): void {
    const plans = new Map<string, readonly Match<H>[]>();
    for (const [command, own] of this.#exact) {
      const plan = [...own, ...this.#general.filter((m) => accepts(m.matcher, command))];
      plans.set(command, Object.freeze(plan.sort(compareMatches)));
    }
    this.#plans = plans;
  }
}

function duplicate(what: string): LogwireError {
  return new LogwireError(
    'LW_ERR_DUPLICATE_MATCH',
    `dispatcher: ${what}; remove the other one, or add this one with callback: true to observe`,
  );
}
