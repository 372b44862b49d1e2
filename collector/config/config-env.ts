/**
 * Settings from the environment (INTERFACES.md): `LOGWIRE_<KEY>` for each top-level key of the
 * configuration file, upper case (`LOGWIRE_OUTPUT`, `LOGWIRE_MAX_BODY`). They override the file
 * and are overridden by flags. Each text is turned into the type the key takes, then checked by
 * the same rules as the file:
 *
 *   whole numbers      LOGWIRE_MAX_BODY=1048576
 *   true / false       LOGWIRE_TRACE=true (also 1 / 0)
 *   lists              LOGWIRE_LISTEN=tcp/127.0.0.1:4043,udp/127.0.0.1:4043 (comma-separated)
 *   anything else      the text as it is (paths, choices, modes like 0640, secrets)
 *
 * Tables come from the file only: LOGWIRE_ROUTE, LOGWIRE_JETSTREAM and LOGWIRE_FROM_JETSTREAM
 * are refused, and LOGWIRE_OUTPUT names the directory (with [[output]] tables in the file,
 * LOGWIRE_OUTPUT_DIR does).
 *
 * A variable set to the empty string counts as unset. A `LOGWIRE_` variable that is a near miss
 * of a key is an error with a suggestion; any other is left alone (it may be another tool's).
 */

import { configError, suggest, type Table } from './config-values.js';

export type Environment = Readonly<Record<string, string | undefined>>;
/** `table`: the key holds TOML tables ([[route]]), which only the file can give. */
export type EnvKind = 'integer' | 'boolean' | 'list' | 'string' | 'table';

const PREFIX = 'LOGWIRE_';

export function envVarName(key: string): string {
  return `${PREFIX}${key.toUpperCase()}`;
}

/** The keys set in `env`, with typed values, for the file's checks to run on. */
export function readEnvironment(
  env: Environment,
  keys: readonly string[],
  kind: (key: string) => EnvKind,
): Table {
  const table: Record<string, unknown> = Object.create(null);
  for (const key of keys) {
    const text = env[envVarName(key)];
    if (text === undefined || text === '') continue;
    if (kind(key) === 'table')
      throw configError(
        `environment variable ${envVarName(key)} cannot be set: ${tableName(key)} tables come from the configuration file only`,
      );
    table[key] = typed(text, kind(key));
  }
  for (const name of Object.keys(env)) {
    if (!name.startsWith(PREFIX) || env[name] === undefined || env[name] === '') continue;
    const key = name.slice(PREFIX.length).toLowerCase();
    if (keys.includes(key)) continue;
    const near = suggest(key, keys);
    if (near !== undefined) {
      throw configError(`environment variable ${name} is not a setting; did you mean ${envVarName(near)}?`);
    }
  }
  return table;
}

/** `[[route]]` is an array of tables; `[jetstream]` and `[from_jetstream]` are one table each. */
function tableName(key: string): string {
  return key === 'route' ? `[[${key}]]` : `[${key}]`;
}

function typed(text: string, kind: EnvKind): unknown {
  const trimmed = text.trim();
  switch (kind) {
    case 'integer':
      // Anything else stays text, and the key's check says what it must be.
      return /^\d+$/.test(trimmed) ? Number(trimmed) : text;
    case 'boolean':
      if (trimmed === 'true' || trimmed === '1') return true;
      if (trimmed === 'false' || trimmed === '0') return false;
      return text;
    case 'list':
      return trimmed
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    case 'string':
    case 'table':
      return text;
  }
}
