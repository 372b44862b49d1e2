/**
 * The soak's checker: reads every output file (current and rotated), and counts per source the
 * numbered records found, missing and duplicated.
 *
 * A record missing from the files is
 *   - dropped by policy when the app put it in its fallback file (queue overflow, too large,
 *     undelivered at close: what the appender reports on stderr);
 *   - lost in a copytruncate window when the gap sits exactly where a copytruncate rotation cut
 *     the file: the last record before the gap is in the copy, the first after it in the next
 *     file. docs/collector.md documents that loss ("records written between copytruncate's copy
 *     and its truncate": logrotate's own), so it is shown apart and not held against logwire;
 *   - lost otherwise.
 */

import { existsSync, readFileSync } from 'node:fs';

/**
 * files: [{ path, order, mode }] in the order records were written: rotated files oldest first
 * (mode: 'create' | 'copytruncate', how that file was rotated away), the current ones last.
 * sources: [{ src, logged, fallback, acknowledgedCheck }]
 */
export function check(files, sources) {
  const seen = new Map(sources.map((s) => [s.src, new Map()]));
  let corrupt = 0;
  const corruptSamples = [];
  for (const file of files) {
    for (const line of readFileSync(file.path, 'utf8').split('\n')) {
      if (line === '') continue;
      let record;
      try {
        record = JSON.parse(line);
      } catch {
        corrupt += 1;
        if (corruptSamples.length < 3) corruptSamples.push(`${file.path}: ${line.slice(0, 120)}`);
        continue;
      }
      const bySource = seen.get(record.src);
      if (bySource === undefined || !Number.isInteger(record.n)) continue;
      const where = bySource.get(record.n);
      if (where === undefined) bySource.set(record.n, { file, times: 1 });
      else where.times += 1;
    }
  }
  const rows = sources.map((source) => row(source, seen.get(source.src)));
  return { rows, corrupt, corruptSamples };
}

function fallbackNumbers(path) {
  const numbers = new Set();
  if (path === undefined || !existsSync(path)) return numbers;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    try {
      const n = JSON.parse(line).n;
      if (Number.isInteger(n)) numbers.add(n);
    } catch {}
  }
  return numbers;
}

function row(source, found) {
  const dropped = fallbackNumbers(source.fallback);
  let duplicated = 0;
  for (const { times } of found.values()) duplicated += times - 1;
  let lost = 0;
  let copytruncate = 0;
  let droppedByPolicy = 0;
  const lostSamples = [];
  for (let n = 1; n <= source.logged; n++) {
    if (found.has(n)) continue;
    if (dropped.has(n)) droppedByPolicy += 1;
    else if (inCopytruncateGap(found, n, source.logged)) copytruncate += 1;
    else {
      lost += 1;
      if (lostSamples.length < 5) lostSamples.push(n);
    }
  }
  return {
    src: source.src,
    acknowledgedCheck: source.acknowledgedCheck,
    sent: source.logged,
    acked: source.acked,
    inFiles: found.size,
    lost,
    duplicated,
    droppedByPolicy,
    copytruncate,
    lostSamples,
  };
}

/** The nearest records on both sides of the gap around n straddle a copytruncate rotation. */
function inCopytruncateGap(found, n, last) {
  let below = n - 1;
  while (below >= 1 && !found.has(below)) below -= 1;
  let above = n + 1;
  while (above <= last && !found.has(above)) above += 1;
  if (below < 1 || above > last) return false;
  const before = found.get(below).file;
  const after = found.get(above).file;
  return before.mode === 'copytruncate' && after.order > before.order;
}
