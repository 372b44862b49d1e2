/**
 * Finds what the user docs tell people to type: every `logwire SUBCOMMAND …` command line in a
 * fenced code block or an inline code span, with the `--flags` it names, and every inline span
 * that is a bare `--flag`. test/docs/commands.test.ts checks each against the real CLI.
 */

export interface DocCommand {
  readonly where: string;
  readonly subcommand: string;
  readonly flags: readonly string[];
  readonly text: string;
}

export interface DocFlag {
  readonly where: string;
  readonly flag: string;
}

export interface DocExtract {
  readonly commands: readonly DocCommand[];
  /** Inline spans that are a flag alone (`--host`), with no command in the span. */
  readonly bareFlags: readonly DocFlag[];
  /** Flags that the page passes to some other program (`npm run bench -- --quick`). */
  readonly foreignFlags: ReadonlySet<string>;
}

// `logwire` as the command word of a shell command: optionally after a prompt (`$`), a unit
// file's `ExecStart=`, `sudo`, `npx` or a bin/ path. `logwire/appender`, `npm install
// logwire`, `logwire appender:` (a message prefix) and `logwire <command>` (a placeholder) are
// not commands.
const COMMAND =
  /^\s*(?:\$\s+)?(?:[A-Za-z]+=)?(?:sudo\s+)?(?:npx\s+(?:--no-install\s+)?)?(?:[\w./-]*\bbin\/)?logwire\s+([a-z][a-z-]*)(?=\s|$)(.*)$/;
const FLAG = /(?:^|[\s[(=])(--[a-z][a-z0-9-]*)/g;
// A shell comment, then the separators between commands on one line (not `udp|tcp` in a usage).
const COMMENT = /(?:^|\s)#(?:\s.*)?$/;
const SEPARATOR = /&&|\|\||;|\s\|\s/;

function flagsIn(text: string): string[] {
  return [...text.matchAll(FLAG)].map((match) => match[1]!);
}

/** Code units of a page: each line of a fenced block (`\`-continued lines joined), each inline span. */
function codeUnits(markdown: string): { text: string; line: number; inline: boolean }[] {
  const units: { text: string; line: number; inline: boolean }[] = [];
  let fence: string | undefined;
  let pending = '';
  let pendingLine = 0;
  markdown.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const marker = /^\s*(`{3,}|~{3,})/.exec(raw);
    if (marker !== null && (fence === undefined || marker[1]!.startsWith(fence))) {
      fence = fence === undefined ? marker[1] : undefined;
      return;
    }
    if (fence !== undefined) {
      if (pending === '') pendingLine = line;
      pending += raw.endsWith('\\') ? `${raw.slice(0, -1)} ` : raw;
      if (!raw.endsWith('\\')) {
        units.push({ text: pending.trim(), line: pendingLine, inline: false });
        pending = '';
      }
      return;
    }
    for (const span of raw.matchAll(/(`+)([^`]+?)\1/g))
      units.push({ text: span[2]!.trim(), line, inline: true });
  });
  return units;
}

export function extractDocCommands(file: string, markdown: string): DocExtract {
  const commands: DocCommand[] = [];
  const bareFlags: DocFlag[] = [];
  const foreignFlags = new Set<string>();
  for (const unit of codeUnits(markdown)) {
    const where = `${file}:${unit.line}`;
    if (unit.inline && unit.text.startsWith('--')) {
      bareFlags.push({ where, flag: flagsIn(unit.text)[0] ?? unit.text });
      continue;
    }
    for (const segment of unit.text.replace(COMMENT, '').split(SEPARATOR)) {
      const match = COMMAND.exec(segment);
      if (match === null) for (const flag of flagsIn(segment)) foreignFlags.add(flag);
      else commands.push({ where, subcommand: match[1]!, flags: flagsIn(match[2]!), text: segment.trim() });
    }
  }
  return { commands, bareFlags, foreignFlags };
}
