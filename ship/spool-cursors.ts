import { openSpoolStore } from '../shared/sender/spool-store.js';
import { CURSOR_KEY } from './line-record.js';

/**
 * The furthest cursor of each read among the records a spool holds (not yet acknowledged):
 * read before the appender opens the spool, so that positions saved a moment too late (the
 * crash fell between a spool write and the positions save) are moved up to what is really in
 * the spool. Only the record's first field is looked at: ship always writes the cursor there.
 */

const PREFIX = `{"${CURSOR_KEY}":"`;

export async function spoolCursors(dir: string): Promise<Map<number, number>> {
  const furthest = new Map<number, number>();
  const store = await openSpoolStore(dir);
  try {
    for (const batch of store.unacked()) {
      const body = batch.body.toString('utf8');
      for (let from = 0; from < body.length; ) {
        const lf = body.indexOf('\n', from);
        const end = lf === -1 ? body.length : lf;
        noteCursor(body, from, furthest);
        from = end + 1;
      }
    }
  } finally {
    await store.close();
  }
  return furthest;
}

function noteCursor(body: string, from: number, furthest: Map<number, number>): void {
  if (!body.startsWith(PREFIX, from)) return;
  const close = body.indexOf('"', from + PREFIX.length);
  const [id, end] = body
    .slice(from + PREFIX.length, close)
    .split(':')
    .map(Number);
  if (id === undefined || end === undefined || !Number.isSafeInteger(id) || !Number.isSafeInteger(end))
    return;
  if (end > (furthest.get(id) ?? -1)) furthest.set(id, end);
}
