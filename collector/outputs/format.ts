/**
 * How the file output lays a record out in its file. A format is one file beside this one
 * (json-format.ts, text-format.ts) and one entry in FORMATS below; `format` in the
 * configuration names it.
 */

import type { OutputFormat } from '../config/config-types.js';
import type { Route } from '../writer/write-job.js';
import { JSON_FORMAT } from './json-format.js';
import { TEXT_FORMAT } from './text-format.js';

export interface Format {
  /**
   * Records written byte for byte as received: the shape check's one-pass scan may cut the
   * chunks itself (record-check.ts scanShape), with no Buffer per line.
   */
  readonly verbatim: boolean;
  /**
   * The chunks for the file from a batch's checked record lines (views into `body`, in order);
   * lines the format cannot lay out come back apart, to be rejected as not_an_object.
   */
  render(
    body: Buffer,
    lines: readonly Buffer[],
    route: Route,
    now: number,
  ): { chunks: Buffer[]; unrenderable: Buffer[] };
}

export const FORMATS: Readonly<Record<OutputFormat, Format>> = { json: JSON_FORMAT, text: TEXT_FORMAT };
