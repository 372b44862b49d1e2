/**
 * Build step after tsc: bundles the appender's two thread entries, dist/appender/index.js (pino's
 * worker loads it as `logwire/appender`; the app's thread for createThreadedAppender) and
 * dist/appender/thread-worker.js (createThreadedAppender's shipping thread), in place.
 *
 * Why: a thread that loads the appender from tsc's output reads ~70 module files before its first
 * record can leave, while the app's first log calls run on the other core. Bundled, each thread
 * reads a handful (the entry, the chunk the two entries share, the modules below), and the parts
 * only some options need (the spool, UDP) stay chunks of their own, loaded when configured.
 *
 * Left out of the bundle: node's modules, npm packages (ws loads only for ws:// and wss://), and
 * shared/errors.js, so that `logwire` and `logwire/appender` throw the same LogwireError class.
 */

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const APPENDER = resolve(DIST, 'appender');
const SHARED_WITH_THE_PACKAGE = [resolve(DIST, 'shared', 'errors.js')];
const ENTRIES = {
  index: resolve(APPENDER, 'index.js'),
  'thread-worker': resolve(APPENDER, 'thread-worker.js'),
};

for (const entry of Object.values(ENTRIES)) {
  if (!existsSync(entry)) throw new Error(`bundle-appender: ${entry} is missing: run tsc first`);
}

/** A bare specifier (node:…, ws) or one of the modules the package's entries share. */
function external(id, importer) {
  if (!id.startsWith('.') && !id.startsWith('/')) return true;
  const path = importer === undefined ? resolve(id) : resolve(dirname(importer), id);
  return SHARED_WITH_THE_PACKAGE.includes(path);
}

const result = await build({
  input: ENTRIES,
  platform: 'node',
  external,
  logLevel: 'warn',
  // The chunks sit beside the entries: `new URL('./thread-worker.js', import.meta.url)` still
  // finds the shipping thread's entry from whichever chunk holds threaded.ts.
  output: {
    dir: APPENDER,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: 'bundle-[name]-[hash].js',
  },
});
const files = result.output.map((file) => file.fileName);
process.stdout.write(`bundle-appender: ${files.length} files in dist/appender: ${files.join(', ')}\n`);
