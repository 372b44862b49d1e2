/** The INFO line after start-up recovery: which files were cut back, and by how many bytes. */

import type { CollectorLog } from '../config/config-types.js';
import type { RecoveryReport } from './checkpoint.js';

export function logRecovery(log: CollectorLog, report: RecoveryReport): void {
  const bytes = report.truncated.reduce((sum, cut) => sum + (cut.from - cut.to), 0);
  const files = report.truncated.map((cut) => ({ path: cut.path, from: cut.from, to: cut.to }));
  log.info(
    report.truncated.length === 0
      ? 'recovery: no file to cut back'
      : `recovery: cut ${report.truncated.length} file(s) back by ${bytes} bytes never acknowledged`,
    { files: files.length, bytes, ...(files.length === 0 ? {} : { cut: files }) },
  );
}
