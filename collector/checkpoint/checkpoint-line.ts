/**
 * Checkpoint lines as written: a journal line (one tick's changes) and a snapshot (every mark).
 * Built as strings, since every tick saves one or two; read back by checkpoint-store.ts.
 */

/** What a line says of a source and of an output file (checkpoint-store.ts's marks). */
interface SourceMark {
  readonly last: number;
  readonly seen: number;
  readonly lost: number;
}
interface OutputMark {
  readonly dev: string;
  readonly ino: string;
  readonly size: number;
  readonly seen: number;
}
interface Changes {
  readonly sources: ReadonlyMap<string, SourceMark | null>;
  readonly outputs: ReadonlyMap<string, OutputMark | null>;
  readonly tail?: ReadonlyMap<string, number> | undefined;
}

/** One journal line: `delta` as `{"gen":G,"sources":{…},"outputs":{…}[,"tail":{…}]}` and an LF. */
export function journalLine(gen: number, delta: Changes): string {
  return recordLine(`"gen":${jsonNumber(gen)}`, delta);
}

/**
 * A snapshot or journal line: `head`'s fields, then the changes, as JSON, and an LF. Built as
 * a string (every tick saves one or two lines), and from the maps in their order: an id an
 * object would reorder (one like an array index) or swallow (`__proto__`) is written as is.
 */
function recordLine(head: string, delta: Changes): string {
  let line = `{${head},"sources":{`;
  let sep = '';
  for (const [id, m] of delta.sources) {
    const value = m === null ? 'null' : `[${jsonNumber(m.last)},${jsonNumber(m.seen)},${jsonNumber(m.lost)}]`;
    line += `${sep}${JSON.stringify(id)}:${value}`;
    sep = ',';
  }
  line += '},"outputs":{';
  sep = '';
  for (const [path, m] of delta.outputs) {
    const value =
      m === null
        ? 'null'
        : `[${JSON.stringify(m.dev)},${JSON.stringify(m.ino)},${jsonNumber(m.size)},${jsonNumber(m.seen)}]`;
    line += `${sep}${JSON.stringify(path)}:${value}`;
    sep = ',';
  }
  line += '}';
  if (delta.tail !== undefined) {
    line += ',"tail":{';
    sep = '';
    for (const [path, bytes] of delta.tail) {
      line += `${sep}${JSON.stringify(path)}:${jsonNumber(bytes)}`;
      sep = ',';
    }
    line += '}';
  }
  return `${line}}\n`;
}

/** A number as JSON.stringify writes it (null when not finite). */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** A snapshot: every mark, with the format's version and the generation it starts. */
export function snapshotLine(version: number, gen: number, state: Changes): string {
  return recordLine(`"version":${jsonNumber(version)},"gen":${jsonNumber(gen)}`, state);
}
