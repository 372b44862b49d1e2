/**
 * The `[[output]]` and `[[route]]` tables (docs/collector.md "Outputs and routing"), checked
 * once: unique output names and paths, routes naming known outputs (with "did you mean"), level
 * expressions that read, and no record left without an output.
 */

import { PathTemplate } from '../outputs/path-template.js';
import { MAX_OUTPUTS, parseLevelTest } from '../writer/route-rules.js';
import { FORWARD_TABLE_KEYS, forwardOutput, readForwardTable } from './config-forward.js';
import {
  COLLECTOR_DEFAULTS,
  type CollectorConfig,
  type ForwardConfig,
  type OutputConfig,
  type OutputFormat,
  type RouteConfig,
} from './config-types.js';
import { checkKeys, configError, describe, isTable, suggest, type Table } from './config-values.js';

const COMMON_KEYS = ['name', 'type', 'required', 'backlog'] as const;
const OUTPUT_KEYS = {
  file: [...COMMON_KEYS, 'path', 'format'],
  forward: [...COMMON_KEYS, ...FORWARD_TABLE_KEYS],
  jetstream: COMMON_KEYS,
} as const;
const OUTPUT_TYPES = ['file', 'forward', 'jetstream'] as const;
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
      if (a.type === 'jetstream' && b.type === 'jetstream')
        throw configError(
          `${where}[[output]] "${a.name}" and "${b.name}" both publish to the [jetstream] stream; keep one`,
        );
    }
  }
  return outputs;
}

/**
 * A `type = "jetstream"` output publishes where [jetstream] says, whole numbered batches (their
 * ids are source:seq), so no level rule may split a batch; [jetstream] with tables naming no
 * such output would be unused.
 */
export function checkJetStreamOutputs(
  outputs: readonly OutputConfig[],
  routes: readonly RouteConfig[],
  jetstream: boolean,
  where: string,
): void {
  const publisher = outputs.find((output) => output.type === 'jetstream');
  if (publisher === undefined) {
    if (jetstream && outputs.length > 0)
      throw configError(
        `${where}[jetstream] names servers but no [[output]] publishes there: add [[output]] name = "jetstream" type = "jetstream"`,
      );
    return;
  }
  if (!jetstream)
    throw configError(
      `${where}[[output]] "${publisher.name}" has type = "jetstream": name the servers in [jetstream] servers = ["nats://127.0.0.1:4222"] or with --jetstream URL`,
    );
  if (routes.some((route) => route.level !== undefined))
    throw configError(
      `${where}[[route]] match.level cannot be used with the jetstream output "${publisher.name}": it publishes whole batches; route by service only`,
    );
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
  const kind = type as (typeof OUTPUT_TYPES)[number];
  if (kind === 'jetstream')
    for (const key of ['path', 'format'])
      if (table[key] !== undefined)
        throw configError(`${at}${key} is for file outputs; a jetstream output publishes whole batches`);
  checkKeys(table, OUTPUT_KEYS[kind], at);
  const common = { name, ...delivery(table, at) };
  if (kind === 'forward') return readForwardTable(table, common, at);
  if (kind === 'jetstream') return { type: kind, ...common };
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

/** What the default outputs are built from, besides the [[output]] tables. */
export interface OutputDefaults {
  /** The top-level `forward` / `--forward` settings. */
  readonly forward?: ForwardConfig;
  /** Whether [jetstream] / `--jetstream` names servers. */
  readonly jetstream: boolean;
  /** Whether the output directory was named (`--output`, `output`, LOGWIRE_OUTPUT). */
  readonly explicitOutput: boolean;
  readonly path: string;
  readonly format: OutputFormat;
}

/**
 * The outputs as configured, built in this one place: with [[output]] tables, the tables and the
 * top-level forward's output after them (a JetStream output is one of the tables). Without
 * tables: forward and jetstream each add a required output named after them, which together
 * replace the default file output unless the output directory was named, which keeps the files
 * first. Nothing of these: empty (configuredOutputs supplies the file output).
 */
export function buildOutputs(tables: readonly OutputConfig[], defaults: OutputDefaults): OutputConfig[] {
  const made: OutputConfig[] = [];
  if (defaults.forward !== undefined) {
    const relay = forwardOutput(defaults.forward);
    if (tables.some((table) => table.name === relay.name))
      throw configError(
        `an [[output]] table is named "${relay.name}", which forward / --forward would add; rename the table, or give it the addresses with type = "forward"`,
      );
    made.push(relay);
  }
  if (tables.length > 0) return [...tables, ...made];
  if (defaults.jetstream)
    made.push({
      type: 'jetstream',
      name: COLLECTOR_DEFAULTS.jetstreamOutputName,
      required: true,
      backlog: 0,
    });
  if (made.length === 0 || !defaults.explicitOutput) return made;
  const { path, format } = defaults;
  const files: OutputConfig = {
    ...{ type: 'file', name: COLLECTOR_DEFAULTS.defaultOutputName, path, format },
    ...{ required: true, backlog: COLLECTOR_DEFAULTS.outputBacklog },
  };
  return [files, ...made];
}

/** The outputs the collector opens: the configured ones, or one required file output named `files`. */
export function configuredOutputs(
  config: Pick<CollectorConfig, 'outputs' | 'path' | 'format'>,
): readonly OutputConfig[] {
  if (config.outputs.length > 0) return config.outputs;
  const name = COLLECTOR_DEFAULTS.defaultOutputName;
  return [{ type: 'file', name, path: config.path, format: config.format, required: true, backlog: 0 }];
}
