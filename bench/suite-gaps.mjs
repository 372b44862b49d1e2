/**
 * Where the time goes, for each goal the suite finds not met: what the profiles of the current
 * code show (node --cpu-prof, perf, per-thread CPU from /proc), as prose for docs/benchmarks.md.
 * A paragraph is printed only when one of its goals is not met in the run.
 */

export const GAPS = [];

/** The Markdown section for the goals not met in this run (empty when all are met). */
export function gapSection(goals) {
  const missed = goals.filter((g) => g.met === false);
  const paragraphs = GAPS.filter((gap) => missed.some((g) => gap.goals.test(g.name)));
  if (paragraphs.length === 0) return [];
  return [
    '## Where the time goes (goals not met)',
    '',
    ...paragraphs.flatMap((gap) => [`### ${gap.title}`, '', gap.text, '']),
  ];
}
