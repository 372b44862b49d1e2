/**
 * Routing rules: which outputs a record goes to, by its service and its level. Plain rules, no
 * scripting (docs/collector.md "Outputs and routing"):
 *
 *   [[route]]  match = { service = "checkout", level = ">= warn" }  to = ["alerts"]
 *   [[route]]  to = ["files"]                       # no match: every record (the default)
 *
 * Rules are tried in order; the first that matches decides, unless it says `continue = true`,
 * in which case later rules add their outputs too. A record that matches no rule goes to every
 * output no rule names. The answer is a bit set over the outputs (at most 30), cached per
 * (service, level).
 */

import { suggest } from '../../shared/near-miss.js';
import { LEVELS } from './record-level.js';

export type LevelOperator = '>=' | '>' | '<=' | '<' | '=' | '!=';

export interface LevelTest {
  readonly op: LevelOperator;
  readonly value: number;
}

export interface RouteRule {
  /** Services it matches (any of them); undefined matches every service. */
  readonly service?: readonly string[];
  readonly level?: LevelTest;
  /** Output names, each one of the configured outputs. */
  readonly to: readonly string[];
  readonly continue: boolean;
}

/** At most this many outputs: a route's answer is a 31-bit set. */
export const MAX_OUTPUTS = 30;

const EXPRESSION = /^\s*(>=|<=|!=|>|<|=)?\s*([A-Za-z]+|\d+)\s*$/;

/**
 * Reads a level expression: `">= warn"`, `"< 40"`, `"error"` (= error) or a number (= that
 * level). Returns the reason when it is not one.
 */
export function parseLevelTest(text: unknown): LevelTest | { readonly error: string } {
  if (typeof text === 'number') {
    return Number.isSafeInteger(text) ? { op: '=', value: text } : { error: `${text} is not a whole number` };
  }
  if (typeof text !== 'string') return { error: 'a level expression is a string, like ">= warn"' };
  const found = EXPRESSION.exec(text);
  if (found === null) return { error: `"${text}" is not a level expression, like ">= warn" or "< 40"` };
  const op = (found[1] ?? '=') as LevelOperator;
  const word = found[2]!;
  if (/^\d+$/.test(word)) return { op, value: Number(word) };
  const value = LEVELS[word.toLowerCase()];
  if (value === undefined) {
    const lower = word.toLowerCase();
    // "warning" for warn: a name that starts the word is the likelier meaning than a near spelling.
    const near =
      Object.keys(LEVELS).find((name) => lower.startsWith(name)) ?? suggest(lower, Object.keys(LEVELS));
    const hint =
      near === undefined ? `the names are ${Object.keys(LEVELS).join(', ')}` : `did you mean "${near}"?`;
    return { error: `"${word}" is not a level name; ${hint}` };
  }
  return { op, value };
}

export function levelPasses(test: LevelTest, level: number): boolean {
  switch (test.op) {
    case '>=':
      return level >= test.value;
    case '>':
      return level > test.value;
    case '<=':
      return level <= test.value;
    case '<':
      return level < test.value;
    case '=':
      return level === test.value;
    case '!=':
      return level !== test.value;
  }
}

/** Rules compiled against the output list: answers a bit set of output indexes. */
export class RouteTable {
  /** True when some rule tests the level: only then are records read one by one. */
  readonly usesLevel: boolean;
  readonly #rules: ReadonlyArray<{ readonly rule: RouteRule; readonly mask: number }>;
  /** Outputs named by no rule: where a record matching no rule goes. */
  readonly #fallback: number;
  readonly #cache = new Map<string, number>();

  constructor(rules: readonly RouteRule[], outputs: readonly string[]) {
    const maskOf = (names: readonly string[]): number =>
      names.reduce((mask, name) => mask | (1 << outputs.indexOf(name)), 0);
    this.#rules = rules.map((rule) => ({ rule, mask: maskOf(rule.to) }));
    const named = this.#rules.reduce((mask, entry) => mask | entry.mask, 0);
    this.#fallback = ((1 << outputs.length) - 1) & ~named;
    this.usesLevel = rules.some((rule) => rule.level !== undefined);
  }

  /** The outputs (bit i = output i) a record of `service` at `level` goes to. */
  targets(service: string, level: number): number {
    const key = this.usesLevel ? `${level} ${service}` : service;
    let mask = this.#cache.get(key);
    if (mask === undefined) {
      mask = this.#evaluate(service, level);
      if (this.#cache.size >= 10_000) this.#cache.clear();
      this.#cache.set(key, mask);
    }
    return mask;
  }

  #evaluate(service: string, level: number): number {
    let mask = 0;
    for (const { rule, mask: to } of this.#rules) {
      if (rule.service !== undefined && !rule.service.includes(service)) continue;
      if (rule.level !== undefined && !levelPasses(rule.level, level)) continue;
      mask |= to;
      if (!rule.continue) return mask;
    }
    return mask === 0 ? this.#fallback : mask;
  }
}
