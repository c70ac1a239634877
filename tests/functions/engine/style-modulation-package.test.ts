/**
 * A package with style modulation (trainer/export/decoder-to-onnx.ts) through onnxruntime and the
 * engine: the whole-image decoder graph, fed the style condition the engine computes
 * (functions/engine/style-condition.ts), gives the trainer's decoder; the tiled decoder, fed the whole
 * latent's condition, gives the whole-image graph, and refuses to run without it;
 * the engine renders a large image in tiles as it renders it whole; and a package can say the condition
 * is read from a copy of the content at a fixed size (defaults.conditionSide).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';

import { must } from '../../../functions/core/must';
import {
  closeModelPackage,
  createEngine,
  loadModelPackage,
  type ModelPackage,
  type StylizeRequest,
} from '../../../functions/engine';
import type { FloatTensor } from '../../../functions/engine/onnx-session';
import { decoderFeeds, styleCondition } from '../../../functions/engine/style-condition';
import { runStaged } from '../../../functions/engine/tiled-runner';
import { latentChannels, type ModelConfig, type TrainConfig } from '../../../trainer/config';
import { DECODER_IO, TILED_STYLE_CONDITION } from '../../../trainer/export/package-format';
import { toNchw } from '../../../trainer/export/parity';
import { styleStatistics } from '../../../trainer/layers/style-modulation';
import { decoderLayers } from '../../../trainer/networks/decoder';
import { applyLayers } from '../../../trainer/nn/apply';
import type { ParamStore } from '../../../trainer/nn/params';
import { maxAbsDiff, randomArray, runOutput, TOLERANCE } from '../../support/export-helpers';
import { exportTinyPackage, FIXTURES } from '../../support/tiny-package';

let dir: string;
let store: ParamStore;
let cfg: ModelConfig;
let pkg: ModelPackage;

beforeAll(async () => {
  const exported = await exportTinyPackage(19, { styleModulation: true });
  ({ dir, store, cfg } = exported);
  pkg = await loadModelPackage(dir, { intraOpThreads: 1 });
});

afterAll(async () => {
  await closeModelPackage(pkg);
  store.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** A latent [1, 12ngf, h, w] (NCHW) and the same values NHWC for TF.js. */
function latent(h: number, w: number, seed: number): { nchw: FloatTensor; nhwc: tf.Tensor4D } {
  const { total } = latentChannels(cfg);
  const a = randomArray([1, h, w, total], seed, 0.7, 0.2);
  const nhwc = tf.tensor4d(a.data, [1, h, w, total]);
  return { nchw: toNchw(nhwc), nhwc };
}

test('the manifest says the package is modulated', () => {
  expect(pkg.manifest.config.styleModulation).toBe(true);
});

test('the whole-image decoder graph, fed the latent’s condition, gives the trainer’s modulated decoder', async () => {
  const z = latent(9, 7, 1);
  const condition = styleStatistics(cfg, z.nhwc);
  const decoded = applyLayers(store, decoderLayers(cfg, 'dec'), z.nhwc, { condition });
  const reference = toNchw(decoded);
  tf.dispose([condition, decoded]);
  expect(pkg.sessions.decoder.inputNames).toEqual([DECODER_IO.latent, TILED_STYLE_CONDITION]);
  const feeds = decoderFeeds(pkg.sessions.decoder, cfg, z.nchw);
  const image = await runOutput(pkg.sessions.decoder, feeds, DECODER_IO.image);
  expect(image.dims).toEqual([1, 3, 36, 28]);
  expect(maxAbsDiff(image.data, reference.data)).toBeLessThan(TOLERANCE);
  // Another condition gives another image: the graph reads the input, not statistics of its own.
  const other = styleCondition(cfg, latent(9, 7, 5).nchw);
  const changed = await runOutput(
    pkg.sessions.decoder,
    decoderFeeds(pkg.sessions.decoder, cfg, z.nchw, other),
    DECODER_IO.image,
  );
  expect(maxAbsDiff(changed.data, image.data)).toBeGreaterThan(0.01);
  z.nhwc.dispose();
});

test('the engine’s condition is the trainer’s', () => {
  const z = latent(6, 5, 2);
  const expected = styleStatistics(cfg, z.nhwc);
  const got = styleCondition(cfg, z.nchw);
  expect(got.dims).toEqual([1, expected.shape[1], 1, 1]);
  expect(maxAbsDiff(got.data, expected.dataSync())).toBeLessThan(1e-5);
  tf.dispose([z.nhwc, expected]);
});

test('the tiled decoder with the whole latent’s condition gives the whole-image graph, and needs it', async () => {
  const z = latent(12, 10, 3);
  const whole = await runOutput(
    pkg.sessions.decoder,
    decoderFeeds(pkg.sessions.decoder, cfg, z.nchw),
    DECODER_IO.image,
  );
  const constants = { [TILED_STYLE_CONDITION]: styleCondition(cfg, z.nchw) };
  const tiled = await runStaged(pkg.staged!.decoder, z.nchw, { tile: 4, align: 1, constants });
  expect(maxAbsDiff(tiled.data, whole.data)).toBeLessThan(1e-4);
  // A tile's own statistics would not do: the condition of one corner gives another image.
  const corner = { data: z.nchw.data.slice(), dims: z.nchw.dims };
  const cornerCondition = styleCondition(cfg, cropLatent(corner, 4, 4));
  const wrong = await runStaged(pkg.staged!.decoder, z.nchw, {
    tile: 4,
    align: 1,
    constants: { [TILED_STYLE_CONDITION]: cornerCondition },
  });
  expect(maxAbsDiff(wrong.data, whole.data)).toBeGreaterThan(0.01);
  await expect(runStaged(pkg.staged!.decoder, z.nchw, { tile: 4, align: 1 })).rejects.toThrow(TILED_STYLE_CONDITION);
  z.nhwc.dispose();
});

test('the engine renders a large image in tiles as it renders it whole', async () => {
  const photo = readFileSync(path.join(FIXTURES, 'photo-1.jpg')); // 80×60
  const painting = readFileSync(path.join(FIXTURES, 'painting-1.jpg'));
  const whole = await createEngine({ modelDir: dir, intraOpThreads: 1 });
  const tiled = await createEngine({ modelDir: dir, intraOpThreads: 1, tileAbovePixels: 0, tileSize: 16 });
  try {
    const request = { content: photo, styles: [{ image: painting }], styleSize: 64 };
    const a = await sharp((await tiled.stylize(request)).image)
      .raw()
      .toBuffer();
    const b = await sharp((await whole.stylize(request)).image)
      .raw()
      .toBuffer();
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThanOrEqual(1);
  } finally {
    await tiled.close();
    await whole.close();
  }
});

/** A copy of the package whose manifest says `defaults`, and whether it keeps its tiled graphs. */
function packageWith(defaults: Record<string, unknown>, keepTiling = true): string {
  const copy = mkdtempSync(path.join(os.tmpdir(), 'peerstyle-condition-'));
  cpSync(dir, copy, { recursive: true });
  const file = path.join(copy, 'manifest.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  manifest.defaults = defaults;
  if (!keepTiling) delete manifest.tiling;
  writeFileSync(file, JSON.stringify(manifest));
  return copy;
}

/** The pixels of an engine's result for a request, through a new engine on `modelDir`. */
async function pixels(modelDir: string, request: StylizeRequest): Promise<Buffer> {
  const engine = await createEngine({ modelDir, intraOpThreads: 1 });
  try {
    return await sharp((await engine.stylize(request)).image)
      .raw()
      .toBuffer();
  } finally {
    await engine.close();
  }
}

function worstDifference(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('defaults.conditionSide: the style condition read from a copy of the content at a fixed size', () => {
  const photo = readFileSync(path.join(FIXTURES, 'photo-1.jpg')); // 80×60: a square of side 69 has its area
  const painting = readFileSync(path.join(FIXTURES, 'painting-1.jpg'));
  const request = { content: photo, styles: [{ image: painting }], styleSize: 64, renderScale: 2 };
  const copies: string[] = [];
  afterAll(() => copies.forEach((c) => rmSync(c, { recursive: true, force: true })));
  const withDefaults = (defaults: Record<string, unknown>, keepTiling = true): string => {
    const copy = packageWith(defaults, keepTiling);
    copies.push(copy);
    return copy;
  };

  test('export writes the training crop’s side unless told otherwise', () => {
    expect(cfg.styleModulation).toBe(true);
    expect(pkg.manifest.defaults?.conditionSide).toBe((cfg as TrainConfig).cropSize);
  });

  test('read at the size the image renders at, it gives the image the condition from its own latent gives', async () => {
    // At render scale 1 the working image is 80×60, the copy's size: the same latent, the same condition.
    const same = { ...request, renderScale: 1 };
    const atSide = await pixels(withDefaults({ conditionSide: 69 }), same);
    expect(worstDifference(atSide, await pixels(withDefaults({}), same))).toBeLessThanOrEqual(1);
  });

  test('read at a smaller size, it changes the image, for the full image and the preview alike', async () => {
    const ownLatent = withDefaults({});
    const own = await pixels(ownLatent, request);
    const small = withDefaults({ conditionSide: 64 });
    const atSide = await pixels(small, request);
    expect(worstDifference(atSide, own)).toBeGreaterThan(8);
    // Asked for a preview smaller than the image, the engine renders it with the same condition: the
    // preview of a package that reads it from the small copy is not the one read from its own latent.
    const previews: Buffer[] = [];
    for (const modelDir of [ownLatent, small]) {
      const engine = await createEngine({ modelDir, intraOpThreads: 1 });
      let preview: Buffer | undefined;
      await engine.stylize({
        ...request,
        size: 120,
        preview: 64,
        onProgress: (p) => (preview = p.preview?.image ?? preview),
      });
      await engine.close();
      previews.push(await sharp(must(preview, 'a preview')).raw().toBuffer());
    }
    expect(worstDifference(previews[0]!, previews[1]!)).toBeGreaterThan(8);
  });

  test('a package without the tiled graphs cannot say it: refused at load, naming the reason', async () => {
    await expect(loadModelPackage(withDefaults({ conditionSide: 128 }, false))).rejects.toThrow(
      /defaults\.conditionSide: the package has no tiled graphs/,
    );
  });
});

/** The top-left h×w positions of a latent [1, C, H, W]. */
function cropLatent(t: FloatTensor, h: number, w: number): FloatTensor {
  const [, c, height, width] = t.dims as [number, number, number, number];
  const data = new Float32Array(c * h * w);
  for (let k = 0; k < c; k++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) data[(k * h + y) * w + x] = t.data[(k * height + y) * width + x]!;
    }
  }
  return { data, dims: [1, c, h, w] };
}
