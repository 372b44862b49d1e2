import { crc32 } from 'node:zlib';
import { type Batch, batch, lastSeq } from './batch.js';

/**
 * The on-disk form of batches in a spool segment file (`seg-<first seq>.log`): each batch is a
 * 24-byte header then its body. A crash can leave the last entry torn; a reader stops at the
 * first entry whose header, length or checksum does not hold, and the bytes from there are cut.
 *
 * ```
 *  0      4          12       16        20      24
 *  | LWB1 | seq u64  | count  | length  | crc32 | body (length bytes) …
 *                                          └ crc32 of bytes 0–19 then the body
 * ```
 */
export const ENTRY_HEADER_BYTES = 24;

const MAGIC = Buffer.from('LWB1', 'latin1');
const SEGMENT_NAME = /^seg-(\d{16})\.log$/;

/** The file name of a segment whose first batch starts at `seq`; names sort by number. */
export function segmentName(seq: number): string {
  return `seg-${String(seq).padStart(16, '0')}.log`;
}

/** The first seq in a segment file name, or undefined for any other file. */
export function parseSegmentName(name: string): number | undefined {
  const match = SEGMENT_NAME.exec(name);
  return match === null ? undefined : Number(match[1]);
}

/** The header to write before `batch.body`. */
export function entryHeader(entry: Batch): Buffer {
  const header = Buffer.allocUnsafe(ENTRY_HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeBigUInt64LE(BigInt(entry.seq), 4);
  header.writeUInt32LE(entry.count, 12);
  header.writeUInt32LE(entry.body.length, 16);
  header.writeUInt32LE(crc32(entry.body, crc32(header.subarray(0, 20))), 20);
  return header;
}

export interface SegmentScan {
  /** The intact batches, in file order; bodies are views of `data` (copy the ones kept). */
  readonly batches: Batch[];
  /** Length of the intact prefix: the file is cut here when `validBytes < data.length`. */
  readonly validBytes: number;
}

/**
 * Reads the batches of a segment file. `after` is the last record number of the segments before;
 * an entry that does not number after its predecessor is damage, like a bad checksum.
 */
export function scanSegment(data: Buffer, after: number): SegmentScan {
  const batches: Batch[] = [];
  let offset = 0;
  while (data.length - offset >= ENTRY_HEADER_BYTES) {
    const header = data.subarray(offset, offset + ENTRY_HEADER_BYTES);
    if (!header.subarray(0, 4).equals(MAGIC)) break;
    const seq = Number(header.readBigUInt64LE(4));
    const count = header.readUInt32LE(12);
    const length = header.readUInt32LE(16);
    const end = offset + ENTRY_HEADER_BYTES + length;
    if (end > data.length || count < 1 || seq <= after || !Number.isSafeInteger(seq + count)) break;
    const body = data.subarray(offset + ENTRY_HEADER_BYTES, end);
    if (crc32(body, crc32(header.subarray(0, 20))) !== header.readUInt32LE(20)) break;
    const entry = batch(seq, count, body);
    batches.push(entry);
    after = lastSeq(entry);
    offset = end;
  }
  return { batches, validBytes: offset };
}
