/**
 * The `peerstyle export`, `model inspect` and `stylize` commands end to end, as child processes of the
 * real bin/peerstyle.js, on real fixture images and random tiny weights saved the way training saves
 * them.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';

import { presetConfig } from '../../../../trainer/config';
import { createModel } from '../../../../trainer/model';
import { saveWeights } from '../../../../trainer/weights';
import { randomiseStore } from '../../../support/random-model';
import { FIXTURES } from '../../../support/tiny-package';
import { runCli } from '../../../support/run-cli';
import { at } from '../../../support/checked';

let work: string;
let model: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  work = mkdtempSync(path.join(tmpdir(), 'peerstyle-cli-'));
  const cfg = presetConfig('tiny');
  const store = createModel(cfg, 9);
  randomiseStore(store, 9);
  await saveWeights(path.join(work, 'run', 'model'), store, {
    preset: 'tiny',
    config: cfg,
    iteration: 40,
    trainSeconds: 12,
    dataset: 'datasets/sample',
  });
  store.dispose();
  model = path.join(work, 'package');
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

test('export writes a package that model inspect accepts, and a tampered one it refuses', async () => {
  const exported = await runCli([
    'export',
    '--checkpoint',
    path.join(work, 'run'),
    '--out',
    model,
    '--name',
    'cli-tiny',
    '--version',
    '1.2.3',
  ]);
  expect(exported.stderr).toBe('');
  expect(exported.code).toBe(0);
  expect(exported.stdout).toMatch(/Exported cli-tiny 1\.2\.3 \(preset tiny, ngf 4\)/);
  expect(JSON.parse(readFileSync(path.join(model, 'manifest.json'), 'utf8')).training).toEqual({
    dataset: 'datasets/sample',
    iterations: 40,
    trainSeconds: 12,
  });

  const good = await runCli(['model', 'inspect', model]);
  expect(good.code).toBe(0);
  expect(good.stdout).toMatch(/model\s+cli-tiny 1\.2\.3/);
  expect(good.stdout).toMatch(/training\s+40 iterations on datasets\/sample/);
  expect(good.stdout).toMatch(/defaults\s+none\n/);
  expect(good.stdout).toMatch(/eval\s+not measured\n/);
  expect(good.stdout).toMatch(/check\s+ok/);

  const bad = path.join(work, 'bad-package');
  cpSync(model, bad, { recursive: true });
  const file = path.join(bad, 'encoder.onnx');
  const bytes = readFileSync(file);
  const flipped = bytes.length - 5;
  bytes[flipped] = at(bytes, flipped) ^ 0xff;
  writeFileSync(file, bytes);
  const refused = await runCli(['model', 'inspect', bad]);
  expect(refused.code).toBe(1);
  expect(refused.stdout).toMatch(/check\s+FAILED: .*encoder\.onnx is corrupt/);
});

test('stylize writes one image of the content’s size with two weighted styles', async () => {
  const out = path.join(work, 'single.jpg');
  const result = await runCli([
    'stylize',
    '--model',
    model,
    '--threads',
    '1',
    '--content',
    path.join(FIXTURES, 'exif-orientation-6.jpg'),
    '--style',
    path.join(FIXTURES, 'painting-1.jpg'),
    '--weight',
    '0.7',
    '--style',
    path.join(FIXTURES, 'painting-4.webp'),
    '--weight',
    '0.3',
    '--out',
    out,
    '--strength',
    '0.8',
    '--preserve-color',
    '--quality',
    '90',
  ]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const meta = await sharp(out).metadata();
  expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 60, 80]);
  expect(result.stdout).toContain('60×80 jpeg');
});

test('stylize --preview writes a 512 px JPEG rendering before the full image', async () => {
  const out = path.join(work, 'large.png');
  const preview = path.join(work, 'preview.jpg');
  const result = await runCli([
    'stylize',
    '--model',
    model,
    '--threads',
    '1',
    '--content',
    path.join(FIXTURES, 'exif-orientation-6.jpg'),
    '--style',
    path.join(FIXTURES, 'painting-1.jpg'),
    '--size',
    '640',
    '--out',
    out,
    '--preview',
    preview,
  ]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const small = await sharp(preview).metadata();
  expect([small.format, small.width, small.height]).toEqual(['jpeg', 384, 512]);
  const full = await sharp(out).metadata();
  expect([full.format, full.width, full.height]).toEqual(['png', 480, 640]);
  // The preview is announced (and on disk) before the full image.
  expect(result.stdout.indexOf('Wrote preview')).toBeGreaterThanOrEqual(0);
  expect(result.stdout.indexOf('Wrote preview')).toBeLessThan(result.stdout.indexOf(`Wrote ${out}`));
});

/** `peerstyle stylize` with the test model and the given arguments. */
function stylizeWithModel(args: string[]): ReturnType<typeof runCli> {
  return runCli(['stylize', '--model', model, ...args]);
}

test('stylize reports a bad input with its code and writes nothing', async () => {
  const out = path.join(work, 'never.png');
  const result = await stylizeWithModel([
    '--content',
    path.join(FIXTURES, 'truncated.jpg'),
    '--style',
    path.join(FIXTURES, 'painting-1.jpg'),
    '--out',
    out,
  ]);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(
    /^peerstyle stylize: The content image .*truncated\.jpg is damaged or truncated.*\(TRUNCATED\)\n$/,
  );
  expect(readdirSync(work)).not.toContain('never.png');
  const usage = await stylizeWithModel([
    '--content',
    'a.jpg',
    '--style',
    'b.jpg',
    '--weight',
    '1',
    '--weight',
    '2',
    '--out',
    out,
  ]);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toMatch(/Give one --weight per --style: 1 styles, 2 weights\./);
  const structure = await stylizeWithModel([
    '--content',
    path.join(FIXTURES, 'photo-1.jpg'),
    '--style',
    path.join(FIXTURES, 'painting-1.jpg'),
    '--structure',
    'both',
    '--out',
    out,
  ]);
  expect(structure.code).toBe(1);
  expect(structure.stderr).toMatch(/Unknown structure "both"\. Expected one of: keep, transfer\. \(BAD_OPTION\)/);
  expect(readdirSync(work)).not.toContain('never.png');
});

test('stylize takes the format from the output’s extension and refuses one it cannot write', async () => {
  const args = (out: string, ...extra: string[]) => [
    '--threads',
    '1',
    '--content',
    path.join(FIXTURES, 'photo-1.jpg'),
    '--style',
    path.join(FIXTURES, 'painting-1.jpg'),
    '--size',
    '32',
    '--out',
    path.join(work, out),
    ...extra,
  ];
  const gif = await stylizeWithModel(args('x.gif'));
  expect(gif.code).toBe(1);
  expect(gif.stderr).toBe(
    'peerstyle stylize: --out x.gif: peerstyle writes no .gif files. Use one of: .png, .jpg, .jpeg, .webp. (BAD_OPTION)\n',
  );
  const clash = await stylizeWithModel(args('y.png', '--format', 'jpeg'));
  expect(clash.code).toBe(1);
  expect(clash.stderr).toBe(
    'peerstyle stylize: --out y.png is a png name but --format is jpeg. Drop --format, or name the file y.jpg. (BAD_OPTION)\n',
  );
  expect(readdirSync(work).filter((f) => /^[xy]\./.test(f))).toEqual([]);
  const webp = await stylizeWithModel(args('z.WEBP'));
  expect(webp.code).toBe(0);
  expect((await sharp(path.join(work, 'z.WEBP')).metadata()).format).toBe('webp');
  const agreed = await stylizeWithModel(args('w.jpeg', '--format', 'jpeg'));
  expect(agreed.code).toBe(0);
  expect((await sharp(path.join(work, 'w.jpeg')).metadata()).format).toBe('jpeg');
});

test('the batch form stylises every content × style pair with a progress bar', async () => {
  const contents = path.join(work, 'contents');
  const styles = path.join(work, 'styles');
  mkdirSync(contents);
  mkdirSync(styles);
  for (const f of ['photo-1.jpg', 'photo-5.png']) cpSync(path.join(FIXTURES, f), path.join(contents, f));
  for (const f of ['painting-2.jpg', 'painting-3.jpg']) cpSync(path.join(FIXTURES, f), path.join(styles, f));
  writeFileSync(path.join(styles, 'notes.txt'), 'not an image');
  const outDir = path.join(work, 'batch');
  const result = await runCli([
    'stylize',
    '--model',
    model,
    '--threads',
    '1',
    '--content-dir',
    contents,
    '--style-dir',
    styles,
    '--out-dir',
    outDir,
    '--size',
    '40',
  ]);
  expect(result.code).toBe(0);
  expect(readdirSync(outDir).sort()).toEqual([
    'photo-1__painting-2.png',
    'photo-1__painting-3.png',
    'photo-5__painting-2.png',
    'photo-5__painting-3.png',
  ]);
  expect(result.stderr).toMatch(/\[#{24}\] 4\/4 done/);
  expect(result.stdout).toMatch(/Wrote 4 of 4 images/);
  const meta = await sharp(path.join(outDir, 'photo-5__painting-3.png')).metadata();
  expect([meta.width, meta.height]).toEqual([40, 30]);
});
