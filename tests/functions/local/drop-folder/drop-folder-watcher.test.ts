/**
 * The drop folder on a real folder and a real SQLite file: images dropped under drop/<style-id>/ come
 * back stylized in out/, unusable files go to rejected/ with a reason, partial files wait, restarts do
 * not repeat work, and the watcher's own outputs never become jobs. Then the intake's edges: files
 * far over the limit and pixel bombs refused before they are read or decoded, files that used to fail
 * at every poll, outputs of files sharing a stem, and copies that pause.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { DomainError, ErrorCode } from '../../../../functions/core';
import type { DropFolderWatcher } from '../../../../functions/local/drop-folder/drop-folder-watcher';
import { Worker } from '../../../../functions/worker/worker';
import type { LocalRuntime } from '../../../../functions/wiring/local';
import { InvertTestEngine } from '../../../support/invert-test-engine';
import { IMAGES, openRuntime, tempDir, waitFor } from '../../../support/runtime';

interface Setup {
  rt: LocalRuntime;
  drop: DropFolderWatcher;
  root: string;
  styleId: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  dataDir?: string,
  styleId?: string,
  engine = new InvertTestEngine(),
  flags: string[] = [],
): Promise<Setup> {
  const data = dataDir ?? (await tempDir('drop'));
  const root = path.join(data, 'dropbox');
  // No settle period unless a test asks: two polls that see the same file are enough here.
  const args = [`--drop-dir=${root}`, '--drop-max-bytes=13000', '--drop-poll-ms=100', '--drop-settle-ms=0', ...flags];
  const rt = openRuntime(data, { engine }, args);
  cleanups.push(async () => rt.close());
  let id = styleId;
  if (id === undefined) {
    await rt.blobs.put('styles/local/painting.jpg', await fs.readFile(path.join(IMAGES, 'painting-2.jpg')));
    id = (await rt.styles.create({ name: 'painting', owner: 'local', blobKey: 'styles/local/painting.jpg' })).id;
  }
  const drop = rt.dropFolder()!;
  await fs.mkdir(path.join(root, 'drop', id), { recursive: true });
  return { rt, drop, root, styleId: id };
}

function startWorker(rt: LocalRuntime): Worker {
  const worker = new Worker({ ...rt.workerOptions(), heartbeatMs: 100, idlePollMs: 50 });
  worker.start();
  cleanups.push(() => worker.stop());
  return worker;
}

const exists = (file: string): Promise<boolean> =>
  fs.access(file).then(
    () => true,
    () => false,
  );

async function jobCount(rt: LocalRuntime): Promise<number> {
  return (await rt.jobs.list('local', { limit: 100 })).items.length;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const reasonOf = (root: string, rel: string): Promise<string> =>
  fs.readFile(path.join(root, 'rejected', `${rel}.reason.txt`), 'utf8');

/** Bytes this process has read from files so far (`rchar` in Linux's per-process I/O accounting). */
async function bytesReadSoFar(): Promise<number> {
  const io = await fs.readFile('/proc/self/io', 'utf8');
  return Number(/^rchar: (\d+)$/m.exec(io)?.[1] ?? NaN);
}

/** The first 33 bytes of a PNG: signature and an IHDR chunk declaring `width × height` RGB pixels. */
function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const body = Buffer.concat([Buffer.from('IHDR', 'ascii'), ihdr]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(13);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), length, body, crc]);
}

describe('drop folder', () => {
  it('turns a dropped image into out/<style>/<name>.png, and never reacts to its own outputs', async () => {
    const { rt, drop, root, styleId } = await setup();
    startWorker(rt);
    await fs.copyFile(path.join(IMAGES, 'photo-2.jpg'), path.join(root, 'drop', styleId, 'holiday.jpg'));
    await drop.start();
    cleanups.push(() => drop.stop());

    const out = path.join(root, 'out', styleId, 'holiday.jpg.png');
    await waitFor(() => exists(out), Boolean, 20_000);
    const meta = await sharp(out).metadata();
    const source = await sharp(path.join(IMAGES, 'photo-2.jpg')).metadata();
    expect(meta.format).toBe('png');
    expect([meta.width, meta.height]).toEqual([source.width, source.height]);

    // Several more polls: the result and the untouched original must not start anything new.
    for (let i = 0; i < 3; i += 1) await drop.scan();
    expect(await jobCount(rt)).toBe(1);
    expect((await rt.jobs.list('local')).items[0]?.status).toBe('SUCCEEDED');
    expect(await fs.readdir(path.join(root, 'out', styleId))).toEqual(['holiday.jpg.png']);
  });

  it('moves a non-image, an oversized image and an unknown style to rejected/ with a reason', async () => {
    const { rt, drop, root, styleId } = await setup();
    await fs.writeFile(path.join(root, 'drop', styleId, 'notes.jpg'), 'this is text, not a JPEG\n');
    await fs.copyFile(path.join(IMAGES, 'photo-5.png'), path.join(root, 'drop', styleId, 'huge.jpg'));
    await fs.mkdir(path.join(root, 'drop', 'no-such-style'));
    await fs.copyFile(path.join(IMAGES, 'photo-1.jpg'), path.join(root, 'drop', 'no-such-style', 'photo.jpg'));
    const hugeSize = (await fs.stat(path.join(root, 'drop', styleId, 'huge.jpg'))).size;
    expect(hugeSize).toBeGreaterThan(13_000); // the fixture must exceed the test's cap for this case to mean anything

    await drop.scan();
    await drop.scan();

    const reason = (rel: string): Promise<string> =>
      fs.readFile(path.join(root, 'rejected', `${rel}.reason.txt`), 'utf8');
    expect(await reason(`${styleId}/notes.jpg`)).toBe(
      'INVALID_IMAGE: The file is not an image; expected one of: image/jpeg, image/png, image/webp.\n',
    );
    expect(await reason(`${styleId}/huge.jpg`)).toMatch(
      new RegExp(`^TOO_LARGE: The file is ${hugeSize} bytes; .* at most 13000 bytes`),
    );
    expect(await reason('no-such-style/photo.jpg')).toContain(
      `Unknown style id "no-such-style". Expected one of: ${styleId}.`,
    );
    expect(await exists(path.join(root, 'rejected', styleId, 'notes.jpg'))).toBe(true);
    expect(await exists(path.join(root, 'drop', styleId, 'notes.jpg'))).toBe(false);
    expect(await jobCount(rt)).toBe(0);
  });

  it('writes each reason and each result under a hidden name and renames it, so neither is seen half-written', async () => {
    const { rt, drop, root, styleId } = await setup();
    startWorker(rt);
    await fs.writeFile(path.join(root, 'drop', styleId, 'notes.jpg'), 'this is text, not a JPEG\n');
    await fs.copyFile(path.join(IMAGES, 'photo-2.jpg'), path.join(root, 'drop', styleId, 'holiday.jpg'));
    const written: string[] = [];
    const realWrite = fs.writeFile.bind(fs);
    const spy = jest.spyOn(fs, 'writeFile').mockImplementation((file, data, options) => {
      written.push(String(file));
      return realWrite(file, data, options);
    });
    cleanups.push(async () => spy.mockRestore());
    await drop.start();
    cleanups.push(() => drop.stop());

    await waitFor(() => exists(path.join(root, 'out', styleId, 'holiday.jpg.png')), Boolean, 20_000);
    expect(await reasonOf(root, `${styleId}/notes.jpg`)).toMatch(/^INVALID_IMAGE: /);
    const visible = written.filter((file) => file.startsWith(root) && !/^\..*\.partial$/.test(path.basename(file)));
    expect(written.length).toBeGreaterThanOrEqual(2);
    expect(visible).toEqual([]);
    const leftovers = [
      ...(await fs.readdir(path.join(root, 'out', styleId))),
      ...(await fs.readdir(path.join(root, 'rejected', styleId))),
    ];
    expect(leftovers.sort()).toEqual(['holiday.jpg.png', 'notes.jpg', 'notes.jpg.reason.txt']);
  });

  it('waits until a file being written stops growing', async () => {
    const { rt, drop, root, styleId } = await setup();
    const bytes = await fs.readFile(path.join(IMAGES, 'photo-3.jpg'));
    expect(bytes.length).toBeGreaterThan(1500);
    const file = path.join(root, 'drop', styleId, 'slow.jpg');
    const handle = await fs.open(file, 'w');
    await handle.write(bytes.subarray(0, 500));
    await drop.scan();
    await new Promise((r) => setTimeout(r, 20)); // a distinct mtime for the next write
    await handle.write(bytes.subarray(500, 1500));
    await drop.scan();
    expect(await jobCount(rt)).toBe(0); // it grew between the polls
    await new Promise((r) => setTimeout(r, 20));
    await handle.write(bytes.subarray(1500));
    await handle.close();
    await drop.scan(); // first sight of the final size
    expect(await jobCount(rt)).toBe(0);
    await drop.scan(); // unchanged across two polls: taken
    expect(await jobCount(rt)).toBe(1);
    expect(await exists(path.join(root, 'rejected', styleId, 'slow.jpg.reason.txt'))).toBe(false);
  });

  it('does not process a file twice across a restart, and delivers the job it queued before the restart', async () => {
    const first = await setup();
    const { root, styleId } = first;
    await fs.copyFile(path.join(IMAGES, 'photo-4.jpg'), path.join(root, 'drop', styleId, 'a.jpg'));
    await first.drop.scan();
    await first.drop.scan();
    expect(await jobCount(first.rt)).toBe(1);
    first.rt.close();
    cleanups.splice(0);

    const second = await setup(path.dirname(root), styleId);
    await second.drop.scan();
    await second.drop.scan();
    expect(await jobCount(second.rt)).toBe(1); // the same file, seen before the restart
    startWorker(second.rt);
    await waitFor(
      async () => (await second.rt.jobs.list('local')).items[0]?.status,
      (s) => s === 'SUCCEEDED',
    );
    await second.drop.scan();
    expect(await exists(path.join(root, 'out', styleId, 'a.jpg.png'))).toBe(true);

    // Replacing the file with different bytes makes it a new file.
    await fs.copyFile(path.join(IMAGES, 'photo-1.jpg'), path.join(root, 'drop', styleId, 'a.jpg'));
    await second.drop.scan();
    await second.drop.scan();
    expect(await jobCount(second.rt)).toBe(2);
  });

  it('puts the original in rejected/ with the job’s error when stylization fails', async () => {
    const engine = new InvertTestEngine({
      fail: new DomainError(ErrorCode.TOO_LARGE, 'The image has too many pixels.'),
    });
    const { rt, drop, root, styleId } = await setup(undefined, undefined, engine);
    startWorker(rt);
    await fs.copyFile(path.join(IMAGES, 'photo-1.jpg'), path.join(root, 'drop', styleId, 'big.jpg'));
    await drop.scan();
    await drop.scan();
    await waitFor(
      async () => (await rt.jobs.list('local')).items[0]?.status,
      (s) => s === 'FAILED',
    );
    await drop.scan();
    expect(await fs.readFile(path.join(root, 'rejected', styleId, 'big.jpg.reason.txt'), 'utf8')).toBe(
      'TOO_LARGE: The image has too many pixels.\n',
    );
    expect(await exists(path.join(root, 'rejected', styleId, 'big.jpg'))).toBe(true);
    expect(await exists(path.join(root, 'out', styleId, 'big.jpg.png'))).toBe(false);
  });
});

describe('drop folder intake', () => {
  it('refuses a file over the limit from its size alone, without reading it', async () => {
    const { rt, drop, root, styleId } = await setup();
    const file = path.join(root, 'drop', styleId, 'sparse.png');
    await fs.writeFile(file, pngHeader(64, 64));
    await fs.truncate(file, 1024 ** 3); // 1 GiB of holes: no disk used
    cleanups.push(() => fs.rm(path.join(root, 'rejected', styleId, 'sparse.png'), { force: true }));
    const before = await bytesReadSoFar();
    await drop.scan();
    await drop.scan();
    expect(await bytesReadSoFar()).toBeLessThan(before + 4 * 1024 * 1024);
    expect(await reasonOf(root, `${styleId}/sparse.png`)).toBe(
      `TOO_LARGE: The file is ${1024 ** 3} bytes; the drop folder accepts at most 13000 bytes.\n`,
    );
    expect(await exists(file)).toBe(false);
    expect(await jobCount(rt)).toBe(0);
  });

  it('refuses a pixel bomb from its header before any decoding', async () => {
    const { rt, drop, root, styleId } = await setup();
    // 33 bytes that claim 16000×16000 pixels (768 MB of RGB once decoded).
    await fs.writeFile(path.join(root, 'drop', styleId, 'bomb.png'), pngHeader(16000, 16000));
    await drop.scan();
    await drop.scan();
    // The header check's words, not the decoder's: the engine was never given the bytes.
    expect(await reasonOf(root, `${styleId}/bomb.png`)).toBe(
      'TOO_LARGE: The image is 16000×16000 pixels; the drop folder accepts at most 4096 pixels on the longest side and 16777216 pixels in all.\n',
    );
    expect(await jobCount(rt)).toBe(0);
  });

  it('rejects a file over 2 GiB with a reason instead of failing at every poll', async () => {
    const errors: unknown[] = [];
    const { rt, root, styleId } = await setup();
    const drop = rt.dropFolder({ onError: (error) => errors.push(error) })!;
    const file = path.join(root, 'drop', styleId, 'giant.jpg');
    await fs.writeFile(file, await fs.readFile(path.join(IMAGES, 'photo-1.jpg')));
    await fs.truncate(file, 2 * 1024 ** 3 + 1);
    cleanups.push(() => fs.rm(path.join(root, 'rejected', styleId, 'giant.jpg'), { force: true }));
    for (let i = 0; i < 4; i += 1) await drop.scan();
    expect(errors).toEqual([]);
    expect(await reasonOf(root, `${styleId}/giant.jpg`)).toMatch(/^TOO_LARGE: The file is 2147483649 bytes; /);
    expect(await exists(file)).toBe(false);
  });

  it('takes images whose extension holds a control character or a backslash', async () => {
    const errors: unknown[] = [];
    const { rt, root, styleId } = await setup();
    const drop = rt.dropFolder({ onError: (error) => errors.push(error) })!;
    startWorker(rt);
    const names = ['tab.j\tpg', 'slash.j\\pg'];
    for (const name of names)
      await fs.copyFile(path.join(IMAGES, 'photo-1.jpg'), path.join(root, 'drop', styleId, name));
    await drop.scan();
    await drop.scan();
    expect(errors).toEqual([]);
    expect(await jobCount(rt)).toBe(2);
    await waitFor(
      async () => {
        await drop.scan();
        return (await fs.readdir(path.join(root, 'out', styleId)).catch(() => [])).sort();
      },
      (files) => files.length === 2,
    );
    expect((await fs.readdir(path.join(root, 'out', styleId))).sort()).toEqual(names.map((n) => `${n}.png`).sort());
  });

  it('rejects a file it keeps failing to take, after three polls, with the error as the reason', async () => {
    const errors: unknown[] = [];
    const { rt, root, styleId } = await setup();
    const drop = rt.dropFolder({ onError: (error) => errors.push(error) })!;
    // An object at "drop/local" makes every key below it unwritable: a fault that no retry clears.
    await rt.blobs.put('drop/local', Buffer.from('in the way'));
    await fs.copyFile(path.join(IMAGES, 'photo-1.jpg'), path.join(root, 'drop', styleId, 'stuck.jpg'));
    for (let i = 0; i < 6; i += 1) await drop.scan();
    expect(errors).toHaveLength(3);
    expect(await reasonOf(root, `${styleId}/stuck.jpg`)).toMatch(/^INTERNAL: .*Cannot store "drop\/local\//);
    expect(await exists(path.join(root, 'drop', styleId, 'stuck.jpg'))).toBe(false);
    expect(await jobCount(rt)).toBe(0);
  });

  it('gives two files with the same stem two outputs', async () => {
    const { rt, drop, root, styleId } = await setup();
    startWorker(rt);
    await fs.copyFile(path.join(IMAGES, 'photo-1.jpg'), path.join(root, 'drop', styleId, 'dup.jpg'));
    await fs.copyFile(path.join(IMAGES, 'grey.png'), path.join(root, 'drop', styleId, 'dup.png'));
    await drop.scan();
    await drop.scan();
    await waitFor(
      async () => {
        await drop.scan();
        return fs.readdir(path.join(root, 'out', styleId)).catch(() => []);
      },
      (files) => files.length === 2,
    );
    for (const [out, source] of [
      ['dup.jpg.png', 'photo-1.jpg'],
      ['dup.png.png', 'grey.png'],
    ] as const) {
      const meta = await sharp(path.join(root, 'out', styleId, out)).metadata();
      const expected = await sharp(path.join(IMAGES, source)).metadata();
      expect([meta.width, meta.height]).toEqual([expected.width, expected.height]);
    }
  });

  it('does not take a copy that pauses for longer than a poll, while the settle period lasts', async () => {
    const { rt, drop, root, styleId } = await setup(undefined, undefined, undefined, ['--drop-settle-ms=1000']);
    const bytes = await fs.readFile(path.join(IMAGES, 'photo-3.jpg'));
    const file = path.join(root, 'drop', styleId, 'paused.jpg');
    const handle = await fs.open(file, 'w');
    await handle.write(bytes.subarray(0, bytes.length >> 1));
    await drop.scan();
    await sleep(150); // longer than the 100 ms poll, shorter than the settle period
    await drop.scan();
    await drop.scan();
    expect(await jobCount(rt)).toBe(0);
    await handle.write(bytes.subarray(bytes.length >> 1));
    await handle.close();
    await drop.scan();
    await sleep(1100);
    await drop.scan();
    expect(await jobCount(rt)).toBe(1);
    expect(await exists(path.join(root, 'rejected', styleId, 'paused.jpg'))).toBe(false);
  });

  it('takes back a rejected file that is still being written, and takes it once it settles', async () => {
    const { rt, drop, root, styleId } = await setup(undefined, undefined, undefined, ['--drop-settle-ms=200']);
    const bytes = await fs.readFile(path.join(IMAGES, 'photo-3.jpg'));
    const file = path.join(root, 'drop', styleId, 'stalled.jpg');
    const handle = await fs.open(file, 'w');
    await handle.write(bytes.subarray(0, bytes.length >> 1));
    await drop.scan();
    await sleep(250); // a stall longer than the settle period: the half file is taken, and refused
    await drop.scan();
    expect(await reasonOf(root, `${styleId}/stalled.jpg`)).toMatch(/^TRUNCATED: /);
    // The writer still holds the file, now under rejected/, and finishes it there.
    await handle.write(bytes.subarray(bytes.length >> 1));
    await handle.close();
    await drop.scan();
    expect(await exists(file)).toBe(true);
    expect(await exists(path.join(root, 'rejected', styleId, 'stalled.jpg'))).toBe(false);
    expect(await exists(path.join(root, 'rejected', styleId, 'stalled.jpg.reason.txt'))).toBe(false);
    await sleep(250);
    await drop.scan();
    await drop.scan();
    expect(await jobCount(rt)).toBe(1);
    expect(await fs.readFile(file)).toEqual(bytes);
  });
});
