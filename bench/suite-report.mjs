/**
 * The suite's statistics and its outputs: ratios with 95 % intervals, text tables, the
 * reference page docs/benchmarks.md and its chart (an SVG drawn here, no dependency).
 */

export function median(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Student's t at 97.5 % for `df` degrees of freedom (the next lower row; 1.96 past 60). */
function t975(df) {
  const rows = [
    [1, 12.71],
    [2, 4.3],
    [3, 3.18],
    [4, 2.78],
    [5, 2.57],
    [6, 2.45],
    [8, 2.31],
    [10, 2.23],
    [15, 2.13],
    [20, 2.09],
    [30, 2.04],
    [60, 2.0],
  ];
  if (df > 60) return 1.96;
  let t = rows[0][1];
  for (const [at, value] of rows) if (df >= at) t = value;
  return t;
}

/** Geometric mean of per-round ratios and its 95 % interval (one round: no interval). */
export function ratio(ratios) {
  const logs = ratios.filter((r) => Number.isFinite(r) && r > 0).map(Math.log);
  const n = logs.length;
  if (n === 0) return { mean: Number.NaN, low: Number.NaN, high: Number.NaN, n };
  const mean = logs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean: Math.exp(mean), low: Number.NaN, high: Number.NaN, n };
  const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const half = t975(n - 1) * (sd / Math.sqrt(n));
  return { mean: Math.exp(mean), low: Math.exp(mean - half), high: Math.exp(mean + half), n };
}

export function showRatio(r) {
  if (!Number.isFinite(r.mean)) return 'n/a';
  const interval = Number.isFinite(r.low) ? ` [${r.low.toFixed(2)}, ${r.high.toFixed(2)}]` : ' (1 round)';
  return `${r.mean.toFixed(2)}×${interval}`;
}

export const fmt = (value, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';

/** A Markdown table (also printed as is: readable in a terminal). */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/**
 * A horizontal bar chart of ratios against their goals: one bar per goal (the measured ratio,
 * with its interval as a whisker), a mark at the goal. Lower-is-better and higher-is-better
 * goals are drawn on the same log scale, centred on 1×.
 */
export function chart(goals) {
  const rowH = 26;
  const left = 330;
  const width = 820;
  const plot = width - left - 20;
  const height = 40 + goals.length * rowH + 30;
  const min = 0.1;
  const max = 10;
  const x = (v) =>
    left +
    ((Math.log(Math.min(max, Math.max(min, v))) - Math.log(min)) / (Math.log(max) - Math.log(min))) * plot;
  const esc = (s) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/≤/g, '&#8804;').replace(/≥/g, '&#8805;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    '<title>logwire against its peers: measured ratio per benchmark, with its goal</title>',
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">logwire / peer: measured ratio (bar, 95 % interval) and goal (black mark); log scale</text>`,
  ];
  for (const tick of [0.1, 0.25, 0.5, 1, 2, 4, 10]) {
    parts.push(`<line x1="${x(tick)}" y1="30" x2="${x(tick)}" y2="${height - 25}" stroke="#ddd"/>`);
    parts.push(`<text x="${x(tick)}" y="${height - 10}" text-anchor="middle">${tick}×</text>`);
  }
  goals.forEach((goal, i) => {
    const y = 40 + i * rowH;
    const color = goal.met === true ? '#2e8b57' : goal.met === false ? '#c0392b' : '#999';
    parts.push(`<text x="${left - 8}" y="${y + 14}" text-anchor="end">${esc(goal.name)}</text>`);
    if (Number.isFinite(goal.ratio.mean)) {
      parts.push(
        `<rect x="${x(min)}" y="${y + 3}" width="${x(goal.ratio.mean) - x(min)}" height="14" fill="${color}" opacity="0.8"/>`,
      );
      if (Number.isFinite(goal.ratio.low)) {
        parts.push(
          `<line x1="${x(goal.ratio.low)}" y1="${y + 10}" x2="${x(goal.ratio.high)}" y2="${y + 10}" stroke="black"/>`,
        );
      }
    }
    parts.push(
      `<line x1="${x(goal.target)}" y1="${y}" x2="${x(goal.target)}" y2="${y + 20}" stroke="black" stroke-width="3"/>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Whether a goal is met: by the ratio's mean (the interval is printed beside it). */
export function goal(name, ratioValue, op, target) {
  const mean = ratioValue.mean;
  const met = Number.isFinite(mean) ? (op === '≤' ? mean <= target : mean >= target) : undefined;
  return { name, ratio: ratioValue, op, target, met };
}

export function goalRows(goals) {
  return goals.map((g) => [
    g.name,
    `${g.op} ${g.target}×`,
    showRatio(g.ratio),
    g.met === undefined ? 'not measured' : g.met ? 'met' : '**not met**',
  ]);
}
