import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkMessage, DEFINITIONS, PROTOCOL_COMMANDS } from '../../shared/protocol/definitions.js';
import { formatLine, parseLine } from '../../shared/protocol/line.js';
import { message } from '../../shared/protocol/message.js';

/**
 * docs/protocol.md stays true to the code: its command table lists every defined command with
 * each parameter's type and presence, and its examples parse as the codec reads them.
 */

const DOC = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

/** The text of a `## ` section, from its heading to the next one. */
function section(heading: string): string {
  const start = DOC.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`docs/protocol.md has no section "## ${heading}"`);
  const end = DOC.indexOf('\n## ', start + 1);
  return DOC.slice(start, end === -1 ? undefined : end);
}

/** Table rows of a section, as cells (the header and separator rows left out). */
function rows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('|') && !line.startsWith('|---'))
    .map((line) =>
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    );
}

/** `x` → x, or undefined when the cell is not exactly one code span. */
function code(cell: string | undefined): string | undefined {
  const m = /^`([^`]*)`$/.exec(cell ?? '');
  return m?.[1];
}

describe('docs/protocol.md', () => {
  describe('command table', () => {
    const table = new Map<string, string>();
    for (const cells of rows(section('Command table'))) {
      const command = code(cells[0]);
      if (command !== undefined) table.set(command, cells[2] ?? '');
    }

    it('lists every command of PROTOCOL_COMMANDS, and no other', () => {
      const missing = PROTOCOL_COMMANDS.filter((command) => !table.has(command));
      expect(missing, 'commands missing from the command table').toEqual([]);
      expect([...table.keys()].filter((command) => !PROTOCOL_COMMANDS.includes(command))).toEqual([]);
    });

    it.each([...DEFINITIONS.messages.values()].map((def) => [def.command, def] as const))(
      'gives every parameter of %s with its type and presence',
      (command, def) => {
        const cell = table.get(command) ?? '';
        const names = Object.keys(def.params);
        if (names.length === 0) expect(cell).toBe('—');
        for (const name of names) {
          const p = def.params[name]!;
          const said = new RegExp(`\`${name}\` ([^;|]*)`).exec(cell)?.[1];
          expect(said, `${command}: parameter ${name} is not in the table`).toBeDefined();
          expect(said).toContain(p.presence);
          if (p.presence !== 'forbidden') expect(said).toContain(p.type);
          if (p.min !== undefined) expect(said).toContain(`≥ ${p.min}`);
          if (p.secret === true) expect(said).toContain('secret');
        }
        if (def.open === true) expect(cell).toContain('any other parameter accepted');
      },
    );

    it('names the global parameters', () => {
      for (const name of Object.keys(DEFINITIONS.globals)) {
        expect(section('Command table')).toContain(`Every message may also carry \`${name}\``);
      }
    });
  });

  it('has examples in §1 that parse and pass their definitions', () => {
    const start = DOC.indexOf('Examples (each line ends with LF):');
    const block = /```\n([\s\S]*?)```/.exec(DOC.slice(start))?.[1] ?? '';
    const lines = block.split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(checkMessage(parseLine(line), DEFINITIONS), line).toBeUndefined();
  });

  it('shows values on the wire as formatLine writes them and parseLine reads them back', () => {
    const examples = rows(section('1. Messages'))
      .map(([value, wire]) => [code(value), code(wire)] as const)
      .filter((pair): pair is readonly [string, string] => pair[0] !== undefined && pair[1] !== undefined);
    expect(examples.length).toBeGreaterThan(5);
    for (const [value, wire] of examples) {
      expect(formatLine(message('X', { v: value }))).toBe(`X ${wire}\n`);
      expect(parseLine(`X ${wire}`).params.v).toBe(value);
    }
  });
});
