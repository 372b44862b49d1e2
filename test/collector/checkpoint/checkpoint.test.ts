import { mkdir, mkdtemp, readFile, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Checkpoint } from '../../../collector/checkpoint/checkpoint.js';
import { OutputSet } from '../../../collector/outputs/output-set.js';

let base: string;
let stateDir: string;
let outputDir: string;
const open: Array<{ close(): Promise<void> }> = [];

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'lw-checkpoint-'));
  stateDir = join(base, 'logs', '.state');
  outputDir = join(base, 'logs');
});

afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
  await rm(base, { recursive: true, force: true });
});

const noTimers = { setInterval: () => ({}), clearInterval: () => undefined };

interface Collector {
  checkpoint: Checkpoint;
  outputs: OutputSet;
}

/** What the daemon does at start: lock and load, recover, then open outputs wired to noteOpened. */
async function start(
  dirs = { stateDir, outputDir },
  now = () => 1_000,
): Promise<Collector & { report: unknown }> {
  const checkpoint = await Checkpoint.open(dirs.stateDir, { clock: now });
  open.push(checkpoint);
  const report = await checkpoint.recover(dirs.outputDir);
  const outputs = await OutputSet.open({
    dir: dirs.outputDir,
    timers: noTimers,
    exclude: [dirs.stateDir],
    onOpen: (file) => checkpoint.noteOpened(file),
  });
  open.push(outputs);
  return { checkpoint, outputs, report };
}

/** kill -9 as far as the disk can tell: what was not saved is gone. */
async function crash(c: Collector): Promise<void> {
  await c.outputs.close();
  await c.checkpoint.close();
}

/** A tick's write as the writer makes it: its tail declared first, then the bytes. */
async function writeDeclared(c: Collector, path: string, chunks: readonly Buffer[]): Promise<void> {
  await c.checkpoint.declare(new Map([[path, chunks.reduce((sum, b) => sum + b.length, 0)]]));
  await c.outputs.write(path, chunks);
}

/** One tick: declare, write, note lengths, save (the ACK may leave after). */
async function tick(c: Collector, path: string, text: string, source = 'src', last = 0): Promise<void> {
  await writeDeclared(c, path, [Buffer.from(text)]);
  if (last > 0) c.checkpoint.setMark(source, last);
  c.checkpoint.noteOutputs(c.outputs.lengths());
  await c.checkpoint.save();
}

const read = (rel: string): Promise<string> => readFile(join(outputDir, rel), 'utf8');

describe('Checkpoint', () => {
  describe('marks', () => {
    it('round-trips marks, gaps and outputs through save and open', async () => {
      const c = await start();
      expect(c.checkpoint.mark('a')).toBe(0);
      expect(c.checkpoint.knows('a')).toBe(false);
      c.checkpoint.setMark('a', 10, 500);
      c.checkpoint.noteGap('a', 3, 600);
      c.checkpoint.touch('b', 700);
      await tick(c, 'x.log', '{}\n');
      await crash(c);
      const again = await start();
      expect(again.checkpoint.source('a')).toEqual({ last: 10, seen: 600, lost: 3 });
      // 'b' only registered: a source that never wrote is not kept.
      expect(again.checkpoint.knows('b')).toBe(false);
      expect(again.checkpoint.sources()).toBe(1);
      expect(again.checkpoint.output('x.log')).toMatchObject({ size: 3 });
    });

    it('reads staged marks at once but makes them durable only with save', async () => {
      const c = await start();
      c.checkpoint.setMark('a', 5);
      expect(c.checkpoint.mark('a')).toBe(5);
      expect(c.checkpoint.dirty).toBe(true);
      await crash(c);
      expect((await start()).checkpoint.mark('a')).toBe(0);
    });

    it('lets a staged mark be set back, never below the saved one', async () => {
      const c = await start();
      c.checkpoint.setMark('a', 5);
      await c.checkpoint.save();
      c.checkpoint.setMark('a', 9);
      c.checkpoint.setMark('a', 5); // a failed tick undoes its advance
      expect(c.checkpoint.mark('a')).toBe(5);
      expect(() => c.checkpoint.setMark('a', 4)).toThrow(
        expect.objectContaining({ code: 'LW_ERR_CHECKPOINT' }),
      );
    });

    it('forgets sources idle longer than sourceTtl', async () => {
      let now = 1_000;
      const checkpoint = await Checkpoint.open(stateDir, { clock: () => now, sourceTtl: 10_000 });
      open.push(checkpoint);
      checkpoint.setMark('old', 3);
      now = 8_000;
      checkpoint.setMark('new', 4);
      await checkpoint.save();
      now = 12_000;
      expect(checkpoint.forgetIdle()).toBe(1);
      await checkpoint.save();
      expect([...checkpoint.marks()].map(([id]) => id)).toEqual(['new']);
    });

    it('counts UDP loss apart from the marks', async () => {
      const c = await start();
      c.checkpoint.noteUdp('u', 1, 2);
      expect(c.checkpoint.noteUdp('u', 5, 1)).toBe(2);
      expect(c.checkpoint.udpLost).toBe(2);
      expect(c.checkpoint.knows('u')).toBe(false);
    });
  });

  describe('lock', () => {
    it('refuses a second collector on the same state directory', async () => {
      await start();
      await expect(Checkpoint.open(stateDir, {})).rejects.toMatchObject({ code: 'LW_ERR_STATE_LOCKED' });
    });
  });

  describe('#noteOpened', () => {
    const journalLines = async (): Promise<number> =>
      (await readFile(join(stateDir, 'checkpoint.journal'), 'utf8')).split('\n').filter(Boolean).length;
    const opened = (path: string, ino: string, size = 0) => ({ path, dev: '1', ino, size });

    it('saves the identities of files opened together in one journal line', async () => {
      const c = await start();
      const before = await journalLines();
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => c.checkpoint.noteOpened(opened(`svc-${i}.log`, `${i}`))),
      );
      expect(await journalLines()).toBe(before + 1);
      await crash(c);
      const again = await Checkpoint.open(stateDir, { clock: () => 1_000 });
      open.push(again);
      for (let i = 0; i < 50; i++) expect(again.output(`svc-${i}.log`)).toMatchObject({ ino: `${i}` });
    });

    it('never lets an identity overtake a save queued before it', async () => {
      const c = await start();
      const first = c.checkpoint.noteOpened(opened('a.log', '1'));
      // A tick's save, queued behind the group, still holding the old identity of b.log.
      c.checkpoint.noteOutput(opened('b.log', '2', 10));
      const save = c.checkpoint.save();
      // b.log replaced (logrotate create) and opened: its new identity must land after that save.
      const second = c.checkpoint.noteOpened(opened('b.log', '3'));
      await Promise.all([first, save, second]);
      await crash(c);
      const again = await Checkpoint.open(stateDir, { clock: () => 1_000 });
      open.push(again);
      expect(again.output('b.log')).toMatchObject({ ino: '3', size: 0 });
      expect(again.output('a.log')).toMatchObject({ ino: '1' });
    });
  });

  describe('#savedOutput with OutputSet#cutBack', () => {
    it('undoes the landed writes of a failed tick, so resends are written once', async () => {
      const c = await start();
      await tick(c, 'a.log', '{"n":1}\n', 'src', 1);
      await writeDeclared(c, 'a.log', [Buffer.from('{"n":2}\n')]); // landed
      await writeDeclared(c, 'new.log', [Buffer.from('{"n":3}\n')]); // landed in a new file
      // …and the tick's write to a third file failed: undo the tick instead of saving it.
      const touched = c.outputs.lengths();
      const saved = touched.flatMap((f) => c.checkpoint.savedOutput(f.path) ?? []);
      expect(saved.map((f) => [f.path, f.size])).toEqual([
        ['a.log', 8],
        ['new.log', 0],
      ]);
      await c.outputs.cutBack(saved);
      expect(await read('a.log')).toBe('{"n":1}\n');
      expect(await read('new.log')).toBe('');
      await writeDeclared(c, 'a.log', [Buffer.from('{"n":2}\n')]); // the resend
      expect(await read('a.log')).toBe('{"n":1}\n{"n":2}\n');
    });

    it('does not cut a file that is no longer the saved identity', async () => {
      const c = await start();
      await tick(c, 'a.log', '{"n":1}\n');
      const saved = c.checkpoint.savedOutput('a.log')!;
      await writeDeclared(c, 'a.log', [Buffer.from('{"n":2}\n')]);
      await c.outputs.cutBack([{ ...saved, ino: '1' }]);
      expect(await read('a.log')).toBe('{"n":1}\n{"n":2}\n');
    });
  });

  describe('#recover', () => {
    it('cuts a tail written after the last checkpoint, keeping what was saved', async () => {
      const c = await start();
      await tick(c, 'svc.log', '{"n":1}\n{"n":2}\n', 'src', 2);
      await writeDeclared(c, 'svc.log', [Buffer.from('{"n":3}\n')]); // written, never saved
      c.checkpoint.setMark('src', 3);
      await crash(c);
      const again = await start();
      expect(again.report).toMatchObject({ truncated: [{ path: 'svc.log', from: 24, to: 16 }] });
      expect(await read('svc.log')).toBe('{"n":1}\n{"n":2}\n');
      expect(again.checkpoint.mark('src')).toBe(2);
    });

    it('cuts a new file back to empty when its first tick was never saved', async () => {
      const c = await start();
      await tick(c, 'old.log', '{}\n');
      c.checkpoint.setMark('src', 1);
      await writeDeclared(c, 'new/svc.log', [Buffer.from('{"n":1}\n')]);
      await crash(c);
      const again = await start();
      expect(await read('new/svc.log')).toBe('');
      expect(again.checkpoint.mark('src')).toBe(0);
    });

    it('leaves a rotated file alone and forgets it', async () => {
      const c = await start();
      await tick(c, 'svc.log', '{"n":1}\n');
      await crash(c);
      await rename(join(outputDir, 'svc.log'), join(outputDir, 'svc.log.1'));
      await writeFile(join(outputDir, 'svc.log'), '{"someone":"else"}\n{"longer":"than before"}\n');
      const again = await start();
      expect(again.report).toMatchObject({ replaced: ['svc.log'], truncated: [] });
      expect(await read('svc.log.1')).toBe('{"n":1}\n');
      expect(await read('svc.log')).toBe('{"someone":"else"}\n{"longer":"than before"}\n');
      expect(again.checkpoint.output('svc.log')).toBeUndefined();
    });

    it('keeps the first tick into a file logrotate created exactly once', async () => {
      const c = await start();
      await tick(c, 'svc.log', '{"n":1}\n', 'src', 1);
      await rename(join(outputDir, 'svc.log'), join(outputDir, 'svc.log.1'));
      await writeFile(join(outputDir, 'svc.log'), ''); // logrotate's create
      await c.outputs.reopenAll(); // LOG
      await writeDeclared(c, 'svc.log', [Buffer.from('{"n":2}\n')]); // noteOpened saved the new identity
      c.checkpoint.setMark('src', 2);
      await crash(c);
      const again = await start();
      expect(await read('svc.log')).toBe('');
      expect(again.checkpoint.mark('src')).toBe(1); // n=2 will be resent, written once
    });

    it('notes a file found shorter (copytruncate) and cuts from there next time', async () => {
      const c = await start();
      await tick(c, 'svc.log', '{"n":1}\n{"n":2}\n');
      await truncate(join(outputDir, 'svc.log'), 0);
      await crash(c);
      const again = await start();
      expect(again.report).toMatchObject({ shorter: [{ path: 'svc.log', size: 0, checkpointed: 16 }] });
      await writeDeclared(again, 'svc.log', [Buffer.from('{"n":3}\n')]); // never saved
      await crash(again);
      await start();
      expect(await read('svc.log')).toBe('');
    });

    it('notes a copytruncate at the reopen after LOG, before writing', async () => {
      const c = await start();
      await tick(c, 'svc.log', '{"n":1}\n{"n":2}\n');
      await truncate(join(outputDir, 'svc.log'), 0);
      await c.outputs.reopenAll();
      await writeDeclared(c, 'svc.log', [Buffer.from('{"n":3}\n')]); // never saved
      await crash(c);
      await start();
      expect(await read('svc.log')).toBe('');
    });

    it('forgets missing files and never follows a symlink planted at an output path', async () => {
      const c = await start();
      await tick(c, 'a.log', '{}\n');
      await tick(c, 'b.log', '{}\n');
      await crash(c);
      await rm(join(outputDir, 'a.log'));
      await writeFile(join(base, 'precious'), 'do not cut me, I am long\n');
      await rm(join(outputDir, 'b.log'));
      await symlink(join(base, 'precious'), join(outputDir, 'b.log'));
      const again = await start();
      expect(again.report).toMatchObject({ missing: ['a.log'], replaced: ['b.log'] });
      expect(await readFile(join(base, 'precious'), 'utf8')).toBe('do not cut me, I am long\n');
    });

    it('does not cut through a directory that became a symlink', async () => {
      const c = await start();
      await tick(c, 'svc/a.log', '{}\n');
      await crash(c);
      await rename(join(outputDir, 'svc'), join(base, 'moved'));
      await writeFile(join(base, 'moved', 'a.log'), '{}\n{"more":1}\n');
      await symlink(join(base, 'moved'), join(outputDir, 'svc'));
      const again = await start();
      expect(again.report).toMatchObject({ replaced: ['svc/a.log'] });
      expect(await readFile(join(base, 'moved', 'a.log'), 'utf8')).toBe('{}\n{"more":1}\n');
    });

    it('writes every record exactly once across crashes at any point and logrotate renames', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              records: fc.integer({ min: 1, max: 4 }),
              crash: fc.constantFrom('none', 'none', 'after-write', 'after-save'),
              file: fc.constantFrom('a.log', 'b/c.log'),
              rotate: fc.boolean(),
            }),
            { minLength: 1, maxLength: 12 },
          ),
          async (ticks) => {
            const run = await mkdtemp(join(base, 'run-'));
            const dirs = { stateDir: join(run, 'state'), outputDir: join(run, 'out') };
            await mkdir(dirs.outputDir);
            let c = await start(dirs);
            let acked = 0; // the client forgets records up to its last ACK or READY last
            let next = 1;
            const send = async (file: string): Promise<void> => {
              // The client resends, whole, every record above what it knows was written.
              const mark = c.checkpoint.mark('src');
              const chunks: Buffer[] = [];
              for (let n = Math.max(acked, mark) + 1; n < next; n++) chunks.push(Buffer.from(`{"n":${n}}\n`));
              if (chunks.length > 0) await writeDeclared(c, file, chunks);
              if (next - 1 > mark) c.checkpoint.setMark('src', next - 1);
            };
            const restart = async (): Promise<void> => {
              await crash(c);
              c = await start(dirs);
              acked = Math.max(acked, c.checkpoint.mark('src')); // READY last
            };
            let rotations = 0;
            for (const t of ticks) {
              if (t.rotate) {
                // logrotate `create` + postrotate LOG, between ticks as the daemon does it.
                await rename(
                  join(dirs.outputDir, 'a.log'),
                  join(dirs.outputDir, `a.log.${++rotations}`),
                ).catch(() => undefined);
                await c.outputs.reopenAll();
              }
              next += t.records;
              await send(t.file);
              if (t.crash === 'after-write') {
                await restart();
                continue;
              }
              c.checkpoint.noteOutputs(c.outputs.lengths());
              await c.checkpoint.save();
              if (t.crash === 'after-save') {
                await restart(); // the ACK never left
                continue;
              }
              acked = next - 1;
            }
            await send('a.log');
            c.checkpoint.noteOutputs(c.outputs.lengths());
            await c.checkpoint.save();
            await crash(c);
            const files = [
              'a.log',
              'b/c.log',
              ...Array.from({ length: rotations }, (_, i) => `a.log.${i + 1}`),
            ];
            let text = '';
            for (const file of files)
              text += await readFile(join(dirs.outputDir, file), 'utf8').catch(() => '');
            const numbers = text
              .split('\n')
              .filter(Boolean)
              .map((l) => (JSON.parse(l) as { n: number }).n)
              .sort((x, y) => x - y);
            expect(numbers).toEqual(Array.from({ length: next - 1 }, (_, i) => i + 1));
          },
        ),
        { numRuns: 40 },
      );
    });
  });
});
