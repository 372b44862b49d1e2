/**
 * A damaged or missing checkpoint beside outputs that hold acknowledged records: recovery must
 * not cut them (a crash leaves at most the one declared write past a checkpointed length), and
 * must not start silently with every mark at 0 either. It refuses, saying what it found and how
 * to go on; with acceptOutputs it keeps the files as they are.
 */

import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Checkpoint, type CheckpointOptions } from '../../../collector/checkpoint/checkpoint.js';
import { JOURNAL_FILE, SNAPSHOT_FILE } from '../../../collector/checkpoint/checkpoint-store.js';
import { OutputSet } from '../../../collector/outputs/output-set.js';

let base: string;
let stateDir: string;
let outputDir: string;
const open: Array<{ close(): Promise<void> }> = [];

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'lw-recovery-'));
  outputDir = join(base, 'logs');
  stateDir = join(outputDir, '.state');
});

afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
  await rm(base, { recursive: true, force: true });
});

const noTimers = { setInterval: () => ({}), clearInterval: () => undefined };

interface Running {
  checkpoint: Checkpoint;
  outputs: OutputSet;
}

async function start(options: CheckpointOptions = {}): Promise<Running> {
  const checkpoint = await Checkpoint.open(stateDir, options);
  // As the daemon does: a refused recovery releases the state directory.
  await checkpoint.recover(outputDir).catch(async (error: unknown) => {
    await checkpoint.close();
    throw error;
  });
  open.push(checkpoint);
  const outputs = await OutputSet.open({
    dir: outputDir,
    timers: noTimers,
    exclude: [stateDir],
    onOpen: (file) => checkpoint.noteOpened(file),
  });
  open.push(outputs);
  return { checkpoint, outputs };
}

async function stop(c: Running): Promise<void> {
  await c.outputs.close();
  await c.checkpoint.close();
}

const RECORDS = 20_000;
const PER_TICK = 100;

/** Writes RECORDS records in ticks the way the writer does (declare, write, save), all acked. */
async function writeAll(c: Running): Promise<string> {
  let text = '';
  for (let seq = 1; seq <= RECORDS; seq += PER_TICK) {
    let chunk = '';
    for (let n = seq; n < seq + PER_TICK; n++) chunk += `{"n":${n}}\n`;
    await c.checkpoint.declare(new Map([['svc.log', chunk.length]]));
    await c.outputs.write('svc.log', [Buffer.from(chunk)]);
    c.checkpoint.setMark('src', seq + PER_TICK - 1);
    c.checkpoint.noteOutputs(c.outputs.lengths());
    await c.checkpoint.save();
    text += chunk;
  }
  return text;
}

const svcLog = (): Promise<string> => readFile(join(outputDir, 'svc.log'), 'utf8');

describe('recovery beside a damaged checkpoint', () => {
  it('refuses to cut acknowledged records when the journal was cut in half', async () => {
    const c = await start();
    const written = await writeAll(c);
    await stop(c);
    const journal = join(stateDir, JOURNAL_FILE);
    await truncate(journal, Math.floor((await stat(journal)).size / 2));

    await expect(start()).rejects.toMatchObject({
      code: 'LW_ERR_CHECKPOINT',
      message: expect.stringMatching(/recovery refused: .*svc\.log is \d+ bytes.*--accept-outputs/),
    });
    expect(await svcLog()).toBe(written);
  });

  it('refuses when a length in the journal was lowered', async () => {
    const c = await start();
    const written = await writeAll(c);
    await stop(c);
    const journal = join(stateDir, JOURNAL_FILE);
    const lines = (await readFile(journal, 'utf8')).split('\n');
    // The last save names svc.log's length: claim half of it.
    const last = lines.length - 2;
    const record = JSON.parse(lines[last]!) as { outputs: Record<string, [string, string, number, number]> };
    const entry = record.outputs['svc.log']!;
    entry[2] = Math.floor(entry[2] / 2);
    lines[last] = JSON.stringify(record);
    await writeFile(journal, lines.join('\n'));

    await expect(start()).rejects.toMatchObject({ code: 'LW_ERR_CHECKPOINT' });
    expect(await svcLog()).toBe(written);
  });

  it('refuses when the journal was deleted, or emptied, beside the outputs', async () => {
    const c = await start();
    const written = await writeAll(c);
    await stop(c);
    const journal = join(stateDir, JOURNAL_FILE);
    await rm(journal);
    await expect(start()).rejects.toMatchObject({
      code: 'LW_ERR_CHECKPOINT',
      message: expect.stringMatching(/holds records \(svc\.log\).*missing or empty.*--accept-outputs/),
    });
    await writeFile(journal, '');
    await expect(start()).rejects.toMatchObject({ code: 'LW_ERR_CHECKPOINT' });
    expect(await svcLog()).toBe(written);
  });

  it('refuses when only an older snapshot is left (journal deleted after a compaction)', async () => {
    const c = await start({ compactAt: 8 * 1024 });
    const written = await writeAll(c);
    await stop(c);
    expect((await stat(join(stateDir, SNAPSHOT_FILE))).size).toBeGreaterThan(0);
    await rm(join(stateDir, JOURNAL_FILE));
    await expect(start()).rejects.toMatchObject({ code: 'LW_ERR_CHECKPOINT' });
    expect(await svcLog()).toBe(written);
  });

  it('keeps the files as they are with acceptOutputs, and starts normally after that', async () => {
    const c = await start();
    const written = await writeAll(c);
    await stop(c);
    const journal = join(stateDir, JOURNAL_FILE);
    await truncate(journal, Math.floor((await stat(journal)).size / 2));

    const accepted = await Checkpoint.open(stateDir, { acceptOutputs: true });
    const report = await accepted.recover(outputDir);
    expect(report.doubtful).toEqual([
      expect.objectContaining({ path: 'svc.log', size: Buffer.byteLength(written) }),
    ]);
    expect(report.truncated).toEqual([]);
    // The marks read before the damage: what the senders hold above them is resent, never lost.
    expect(accepted.mark('src')).toBeGreaterThan(0);
    expect(accepted.mark('src')).toBeLessThan(RECORDS);
    await accepted.close();

    const again = await start();
    expect(again.checkpoint.output('svc.log')?.size).toBe(Buffer.byteLength(written));
    expect(await svcLog()).toBe(written);
  });

  it('still cuts a crash tail within the declared write, and nothing more', async () => {
    const c = await start();
    const written = await writeAll(c);
    await c.checkpoint.declare(new Map([['svc.log', 10]]));
    await c.outputs.write('svc.log', [Buffer.from('{"n":0}\n')]); // the crash came before the save
    await stop(c);
    await start();
    expect(await svcLog()).toBe(written);
  });

  it('starts on a fresh state directory beside an empty output directory', async () => {
    const c = await start();
    expect(c.checkpoint.mark('src')).toBe(0);
  });
});
