/**
 * The `[[output]]` and `[[route]]` tables (docs/collector.md "Outputs and routing"), checked
 * once: unique output names and paths, routes naming known outputs (with "did you mean"), level
 * expressions that read, and no record left without an output.
 */

import { PathTemplate } from '../outputs/path-template.js';
import { MAX_OUTPUTS, parseLevelTest } from '../writer/route-rules.js';
import { FORWARD_TABLE_KEYS, readForwardTable } from './config-forward.js';
import {
  COLLECTOR_DEFAULTS,
  type OutputConfig,
  type OutputFormat,
  type RouteConfig,
} from './config-types.js';
import { checkKeys, configError, describe, isTable, suggest, type Table } from './config-values.js';

const COMMON_KEYS = ['name', 'type', 'required', 'backlog'] as const;
const OUTPUT_KEYS = {
  file: [...COMMON_KEYS, 'path', 'format'],
  forward: [...COMMON_KEYS, ...FORWARD_TABLE_KEYS],
} as const;
const OUTPUT_TYPES = ['file', 'forward'] as const;
const ROUTE_KEYS = ['match', 'to', 'continue'] as const;
const MATCH_KEYS = ['service', 'level'] as const;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Reads `[[output]]` (an array of tables); `format` is the top-level default format. */
export function readOutputs(value: unknown, format: OutputFormat, where: string): OutputConfig[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isTable) || value.length === 0)
    throw configError(
      `${where}[[output]] must be tables, like [[output]] name = "files" path = "{service}.log"`,
    );
  if (value.length > MAX_OUTPUTS) throw configError(`${where}at most ${MAX_OUTPUTS} [[output]] tables`);
  const outputs = value.map((table, i) => readOutput(table, format, `${where}[[output]] #${i + 1}: `));
  for (let i = 0; i < outputs.length; i += 1) {
    for (let j = 0; j < i; j += 1) {
      if (outputs[i]!.name === outputs[j]!.name)
        throw configError(`${where}two [[output]] tables are named "${outputs[i]!.name}"; names must differ`);
      const [a, b] = [outputs[i]!, outputs[j]!];
      if (a.type === 'file' && b.type === 'file' && a.path === b.path)
        throw configError(
          `${where}[[output]] "${a.name}" and "${b.name}" both write path = "${a.path}"; each file output needs its own`,
        );
    }
  }
  return outputs;
}

function readOutput(table: Table, format: OutputFormat, where: string): OutputConfig {
  const name = table.name;
  if (typeof name !== 'string' || !NAME.test(name))
    throw configError(
      `${where}name must be a short name of letters, digits, _ and -, like name = "files" (got ${describe(name)})`,
    );
  const at = `${where.slice(0, -2)} "${name}": `;
  const type = table.type ?? 'file';
  if (typeof type !== 'string' || !(OUTPUT_TYPES as readonly string[]).includes(type)) {
    const near = typeof type === 'string' ? suggest(type, OUTPUT_TYPES) : undefined;
    throw configError(
      `${at}type must be one of ${OUTPUT_TYPES.map((t) => `"${t}"`).join(', ')}${near === undefined ? '' : ` (did you mean "${near}"?)`} (got ${describe(type)})`,
    );
  }
  checkKeys(table, OUTPUT_KEYS[type as (typeof OUTPUT_TYPES)[number]], at);
  const common = { name, ...delivery(table, at) };
  if (type === 'forward') return readForwardTable(table, common, at);
  const path = table.path;
  if (typeof path !== 'string')
    throw configError(`${at}path must be a path template, like path = "{service}.log"`);
  try {
    PathTemplate.parse(path);
  } catch (error) {
    throw configError(`${at}${error instanceof Error ? error.message : String(error)}`, error);
  }
  const outputFormat = table.format ?? format;
  if (outputFormat !== 'json' && outputFormat !== 'text')
    throw configError(`${at}format must be "json" or "text" (got ${describe(outputFormat)})`);
  return { type: 'file', ...common, path, format: outputFormat };
}

/** `required` and `backlog`, which every output type takes. */
function delivery(table: Table, at: string): { required: boolean; backlog: number } {
  const required = table.required ?? true;
  if (typeof required !== 'boolean')
    throw configError(`${at}required must be true or false (got ${describe(required)})`);
  const backlog = table.backlog ?? COLLECTOR_DEFAULTS.outputBacklog;
  if (typeof backlog !== 'number' || !Number.isSafeInteger(backlog) || backlog < 1)
    throw configError(
      `${at}backlog must be a whole number of bytes, at least 1, like backlog = 16777216 (got ${describe(backlog)})`,
    );
  return { required, backlog };
}

/** Reads `[[route]]` against the output names (the default output's when there is no [[output]]). */
export function readRoutes(value: unknown, outputs: readonly string[], where: string): RouteConfig[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isTable))
    throw configError(
      `${where}[[route]] must be tables, like [[route]] match = { level = ">= warn" } to = ["alerts"]`,
    );
  const routes = value.map((table, i) => readRoute(table, outputs, `${where}[[route]] #${i + 1}: `));
  const catchAll = routes.some((route) => route.service === undefined && route.level === undefined);
  const named = new Set(routes.flatMap((route) => route.to));
  if (routes.length > 0 && !catchAll && outputs.every((name) => named.has(name)))
    throw configError(
      `${where}a record that matches no [[route]] would go nowhere: add a last route without match, like [[route]] to = ["${outputs[0]}"], or leave an output out of every route (it takes the rest)`,
    );
  return routes;
}

function readRoute(table: Table, outputs: readonly string[], where: string): RouteConfig {
  checkKeys(table, ROUTE_KEYS, where);
  const to = table.to;
  if (!Array.isArray(to) || to.length === 0 || !to.every((name) => typeof name === 'string'))
    throw configError(
      `${where}to must list at least one output, like to = ["${outputs[0]}"] (got ${describe(to)})`,
    );
  for (const name of to as string[]) {
    if (outputs.includes(name)) continue;
    const near = suggest(name, outputs);
    const hint = near === undefined ? `the outputs are ${outputs.join(', ')}` : `did you mean "${near}"?`;
    throw configError(`${where}to names an unknown output "${name}"; ${hint}`);
  }
  const more = table.continue ?? false;
  if (typeof more !== 'boolean')
    throw configError(`${where}continue must be true or false (got ${describe(more)})`);
  const route: { -readonly [K in keyof RouteConfig]: RouteConfig[K] } = {
    to: [...new Set(to as string[])],
    continue: more,
  };
  const match = table.match;
  if (match === undefined) return route;
  if (!isTable(match))
    throw configError(`${where}match must be a table, like match = { service = "checkout" }`);
  checkKeys(match, MATCH_KEYS, `${where}match: `);
  if (match.service !== undefined) route.service = services(match.service, where);
  if (match.level !== undefined) {
    const level = parseLevelTest(match.level);
    if ('error' in level) throw configError(`${where}match.level: ${level.error}`);
    route.level = level;
  }
  return route;
}

function services(value: unknown, where: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s !== ''))
    throw configError(
      `${where}match.service must be a service name or a list of them, like service = "checkout" (got ${describe(value)})`,
    );
  return list as string[];
}

/** The output names routes may use: the [[output]] names, or the default output's. */
export function outputNames(outputs: readonly OutputConfig[]): string[] {
  return outputs.length === 0 ? [COLLECTOR_DEFAULTS.defaultOutputName] : outputs.map((o) => o.name);
}
