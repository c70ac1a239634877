/**
 * The tiled runner against whole-image graphs: the tiled encoder (then the global-style graph) and the
 * tiled decoder reproduce the untiled latent and image, and a halo narrower than the receptive field
 * would not, which shows the comparison can fail. Packages whose global-style graph is the older
 * latent-to-latent form give the same latent, and a run that fetches one output returns just that one.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import { closeModelPackage, loadModelPackage, type ModelPackage } from '../../../functions/engine';
import { closeSession, createSession, run, type FloatTensor } from '../../../functions/engine/onnx-session';
import { applyGlobalStyle, planPasses, runStaged, runTiled } from '../../../functions/engine/tiled-runner';
import { latentChannels, type ModelConfig } from '../../../trainer/config';
import { attr, DEFAULT_OPSET, GraphBuilder } from '../../../trainer/export/graph-builder';
import { GRAPH_FILES } from '../../../trainer/export/package-format';
import { emitLayers } from '../../../trainer/export/layers-to-onnx';
import { globalStyleLayers } from '../../../trainer/networks/global-style';
import type { NamedArray } from '../../../trainer/nn/params';
import { at, defined } from '../../support/checked';
import { randomArray, maxAbsDiff, runOutput } from '../../support/export-helpers';
import { exportTinyPackage } from '../../support/tiny-package';

let dir: string;
let pkg: ModelPackage;
let params: Record<string, NamedArray>;
let cfg: ModelConfig;

beforeAll(async () => {
  const exported = await exportTinyPackage(13);
  params = exported.store.toNamedArrays();
  cfg = exported.cfg;
  exported.store.dispose();
  dir = exported.dir;
  pkg = await loadModelPackage(dir, { intraOpThreads: 1 });
});

afterAll(async () => {
  await closeModelPackage(pkg);
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The global-style graph as packages exported before the vector-only form hold it: the whole raw latent
 * in, split, the vector broadcast and concatenated back, the whole latent out.
 */
function latentToLatentGlobal(): Uint8Array {
  const { content, globalStyle, total } = latentChannels(cfg);
  const g = new GraphBuilder('peerstyle-global-style');
  const raw = g.input('input', ['batch', total, 'h', 'w']);
  const parts = g.node(
    'Split',
    [raw, g.int64Initializer('latent.split', [3], [content, globalStyle, total - content - globalStyle])],
    { axis: attr.int(1) },
    { hint: 'latent', outputs: 3 },
  );
  const [zContent, zGlobal, zLocal] = [at(parts, 0), at(parts, 1), at(parts, 2)];
  const vector = emitLayers(g, params, globalStyleLayers(cfg), zGlobal, globalStyle).output;
  const broadcast = g.op('Expand', [vector, g.op('Shape', [zGlobal])], {}, 'global.broadcast');
  g.output(g.op('Concat', [zContent, broadcast, zLocal], { axis: attr.int(1) }), ['batch', total, 'h', 'w'], 'latent');
  return g.toBytes({ opset: DEFAULT_OPSET });
}

function image(height: number, width: number, seed: number): FloatTensor {
  const a = randomArray([1, 3, height, width], seed, 0.5);
  return { data: a.data, dims: a.shape };
}

test('the manifest records halos and norm widths for the tiled graphs', () => {
  const tiling = pkg.manifest.tiling!;
  expect(tiling.encoderHalo % 4).toBe(0);
  expect(tiling.encoderHalo).toBeGreaterThanOrEqual(16);
  expect(tiling.encoderNorms).toEqual([4, 8, 16, 16, 16, 48]); // stem 2, body: down2, block ×2, out (tiny: ngf 4)
  expect(tiling.decoderNorms).toEqual([16, 16, 16, 8, 4]);
  expect(pkg.tiled).toBeDefined();
});

test('the tiled encoder and decoder match the whole-image graphs', async () => {
  const x = image(72, 56, 3);
  const whole = await runOutput(pkg.sessions.encoder, { image: x }, 'latent');
  const { encoderHalo, decoderHalo, encoderNorms, decoderNorms } = pkg.manifest.tiling!;
  const raw = await runTiled(pkg.tiled!.encoderTiled, x, {
    tile: 24,
    halo: encoderHalo,
    align: 4,
    norms: encoderNorms,
  });
  const layout = latentChannels(pkg.manifest.config);
  const latent = await applyGlobalStyle(pkg.tiled!.global, raw, layout);
  expect(latent.dims).toEqual(whole.dims);
  expect(maxAbsDiff(latent.data, whole.data)).toBeLessThan(1e-4);

  const decodedWhole = await runOutput(pkg.sessions.decoder, { latent: whole }, 'image');
  const decodedTiled = await runTiled(pkg.tiled!.decoderTiled, whole, {
    tile: 5,
    halo: decoderHalo,
    align: 1,
    norms: decoderNorms,
  });
  expect(decodedTiled.dims).toEqual([1, 3, 72, 56]);
  expect(maxAbsDiff(decodedTiled.data, decodedWhole.data)).toBeLessThan(1e-4);

  const narrow = await runTiled(pkg.tiled!.encoderTiled, x, { tile: 24, halo: 4, align: 4, norms: encoderNorms });
  expect(maxAbsDiff((await applyGlobalStyle(pkg.tiled!.global, narrow, layout)).data, whole.data)).toBeGreaterThan(
    1e-3,
  );
});

test('a package with the older latent-to-latent global-style graph gives the same latent', async () => {
  const x = image(40, 32, 5);
  const whole = await runOutput(pkg.sessions.encoder, { image: x }, 'latent');
  const { encoderHalo, encoderNorms } = pkg.manifest.tiling!;
  const raw = await runTiled(pkg.tiled!.encoderTiled, x, {
    tile: 16,
    halo: encoderHalo,
    align: 4,
    norms: encoderNorms,
  });
  const legacy = await createSession(latentToLatentGlobal(), { intraOpThreads: 1 });
  try {
    const latent = await applyGlobalStyle(legacy, raw, latentChannels(cfg));
    expect(latent.dims).toEqual(whole.dims);
    expect(maxAbsDiff(latent.data, whole.data)).toBeLessThan(1e-4);
  } finally {
    await closeSession(legacy);
  }
});

test('a session whose threads do not spin gives the same outputs', async () => {
  const x = image(40, 32, 6);
  const bytes = readFileSync(path.join(dir, GRAPH_FILES.encoder));
  const calm = await createSession(bytes, { intraOpThreads: 2, spinWait: false });
  try {
    const expected = await runOutput(pkg.sessions.encoder, { image: x }, 'latent');
    expect(maxAbsDiff((await runOutput(calm, { image: x }, 'latent')).data, expected.data)).toBeLessThan(1e-6);
  } finally {
    await closeSession(calm);
  }
});

test('run() returns only the outputs it is asked for and names the valid ones for an unknown one', async () => {
  const feeds: Record<string, FloatTensor> = { input: image(16, 16, 7) };
  pkg.manifest.tiling!.encoderNorms.forEach((c, i) => {
    feeds[`norm${i}.mean`] = { data: new Float32Array(c), dims: [1, c, 1, 1] };
    feeds[`norm${i}.var`] = { data: new Float32Array(c).fill(1), dims: [1, c, 1, 1] };
  });
  const all = await run(pkg.tiled!.encoderTiled, feeds);
  const one = await run(pkg.tiled!.encoderTiled, feeds, ['norm1.pre']);
  expect(Object.keys(one)).toEqual(['norm1.pre']);
  expect(maxAbsDiff(defined(one['norm1.pre'], 'norm1.pre').data, defined(all['norm1.pre'], 'norm1.pre').data)).toBe(0);
  await expect(run(pkg.tiled!.encoderTiled, feeds, ['norm9.pre'])).rejects.toThrow(
    /Unknown outputs \[norm9.pre\].*norm0.pre/,
  );
});

describe('runStaged: the tiled graphs cut into stages at their norms', () => {
  const budgets = [
    ['the default budget', undefined],
    ['no state kept (each pass recomputes from the input)', 0],
  ] as const;

  test.each(budgets)('encoder and decoder equal the whole-image graphs, %s', async (_, keepBytes) => {
    const x = image(72, 56, 3);
    const whole = await runOutput(pkg.sessions.encoder, { image: x }, 'latent');
    const raw = await runStaged(pkg.staged!.encoder, image(72, 56, 3), { tile: 24, align: 4, keepBytes });
    const latent = await applyGlobalStyle(pkg.tiled!.global, raw, latentChannels(cfg));
    expect(latent.dims).toEqual(whole.dims);
    expect(maxAbsDiff(latent.data, whole.data)).toBeLessThan(1e-4);

    const decodedWhole = await runOutput(pkg.sessions.decoder, { latent: whole }, 'image');
    const decoded = await runStaged(pkg.staged!.decoder, whole, { tile: 5, align: 1, keepBytes });
    expect(decoded.dims).toEqual([1, 3, 72, 56]);
    expect(maxAbsDiff(decoded.data, decodedWhole.data)).toBeLessThan(1e-4);
  });

  test('a state kept between unkept cuts is stored with a halo wider than a row of tiles', async () => {
    // 20 kB keeps few cuts (norm2.pre, 16 kB, in the encoder; the merge output, 16 kB, and one row of
    // the first upsampling's output in the decoder), so later passes read them with halos of 8 and 5
    // pixels: more than a 4-pixel tile, so each tile row's output also lands in the bands two rows away.
    const x = image(72, 56, 3);
    const whole = await runOutput(pkg.sessions.encoder, { image: x }, 'latent');
    const raw = await runStaged(pkg.staged!.encoder, image(72, 56, 3), { tile: 4, align: 4, keepBytes: 20_000 });
    const latent = await applyGlobalStyle(pkg.tiled!.global, raw, latentChannels(cfg));
    expect(maxAbsDiff(latent.data, whole.data)).toBeLessThan(1e-4);
    const decodedWhole = await runOutput(pkg.sessions.decoder, { latent: whole }, 'image');
    const decoded = await runStaged(pkg.staged!.decoder, whole, { tile: 4, align: 1, keepBytes: 20_000 });
    expect(maxAbsDiff(decoded.data, decodedWhole.data)).toBeLessThan(1e-4);
  });

  test('the plan recomputes cheap stages, keeps costly ones, and keeps a state too large by its first rows', () => {
    const encoder = planPasses(pkg.staged!.encoder.stages, { height: 72, width: 56, tile: 24, align: 4 }, Infinity);
    // Not kept: the 7×7 stem's output (37 multiply-adds per byte of it, under 48), the tiny model's
    // residual blocks (18 per byte) and the 1×1 output layer. Kept: the two strided convs' outputs.
    expect(encoder.map((p) => p.keptRows)).toEqual([0, 3, 3, 0, 0, 0, 0]);
    expect(encoder[1]?.first).toEqual([0, 0, 0]);
    expect(encoder[6]?.first).toEqual([3, 3, 3]);
    // Decoder, 5 rows of tiles: 40 kB holds the first upsampling's output (32 kB) but the last one's (64.5
    // kB, replacing it) for one row only, so the final pass starts there in row 0 and one stage earlier
    // in the others.
    const decoder = planPasses(pkg.staged!.decoder.stages, { height: 18, width: 14, tile: 4, align: 1 }, 40_000);
    expect(decoder.map((p) => p.keptRows)).toEqual([5, 0, 0, 5, 1, 0]);
    expect(decoder[5]?.first).toEqual([5, 4, 4, 4, 4]);
  });

  test('a state kept by its first rows of tiles only, the others recomputing it, gives the same result', async () => {
    // Decoder, 5 rows of tiles: 40 kB keeps the last upsampling's output (64.5 kB, replacing a 32 kB
    // state) for one row; the other four recompute it in the final pass.
    const whole = await runOutput(pkg.sessions.encoder, { image: image(72, 56, 3) }, 'latent');
    const decodedWhole = await runOutput(pkg.sessions.decoder, { latent: whole }, 'image');
    const decoded = await runStaged(pkg.staged!.decoder, whole, { tile: 4, align: 1, keepBytes: 40_000 });
    expect(maxAbsDiff(decoded.data, decodedWhole.data)).toBeLessThan(1e-4);
  });

  test('larger tiles (statistics summed in float32 by onnxruntime per tile) stay within 1e-4', async () => {
    const x = image(200, 136, 21);
    const whole = await runOutput(pkg.sessions.encoder, { image: x }, 'latent');
    const raw = await runStaged(pkg.staged!.encoder, image(200, 136, 21), { tile: 96, align: 4 });
    const latent = await applyGlobalStyle(pkg.tiled!.global, raw, latentChannels(cfg));
    expect(maxAbsDiff(latent.data, whole.data)).toBeLessThan(1e-4);
    const decoded = await runStaged(pkg.staged!.decoder, whole, { tile: 24, align: 1 });
    const decodedWhole = await runOutput(pkg.sessions.decoder, { latent: whole }, 'image');
    expect(maxAbsDiff(decoded.data, decodedWhole.data)).toBeLessThan(1e-4);
  });

  test('each stage reaches only a few pixels and knows its cost; the states carry residual inputs across blocks', () => {
    const { stages, carried } = pkg.staged!.encoder.stages;
    expect(stages.map((s) => s.target)).toEqual([
      ...pkg.manifest.tiling!.encoderNorms.map((_, i) => `norm${i}.pre`),
      'output',
    ]);
    // 7×7 conv at full resolution: 3 px; 3×3 stride-2 convs at 1 and 1/2: 1 and 2 px; 3×3 at 1/4: 4 px.
    expect(stages.slice(0, 4).map((s) => s.reach)).toEqual([3, 1, 2, 4]);
    // Multiply-adds per input pixel: the 7×7 stem from 3 to 4 channels, then 3×3 from 4 to 8 at half size.
    expect(stages.slice(0, 2).map((s) => s.macs)).toEqual([7 * 7 * 3 * 4, (3 * 3 * 4 * 8) / 4]);
    // Inside the first residual block, its input is carried beside the norm's input; after the stem
    // only the norm's input is.
    expect(carried[2]).toHaveLength(1);
    expect(carried[3]).toHaveLength(2);
  });

  test('consumeInput empties the input once no pass reads it, and the result is unchanged', async () => {
    const whole = await runOutput(pkg.sessions.encoder, { image: image(48, 40, 4) }, 'latent');
    const decodedWhole = await runOutput(pkg.sessions.decoder, { latent: whole }, 'image');
    const kept = { data: whole.data.slice(), dims: [...whole.dims] };
    // The input's size as each tile starts: the first pass reads it, and its state replaces it.
    const seen: number[] = [];
    const given = { data: whole.data.slice(), dims: [...whole.dims] };
    const decoded = await runStaged(pkg.staged!.decoder, given, {
      tile: 4,
      align: 1,
      consumeInput: true,
      check: () => seen.push(given.data.length),
    });
    expect(maxAbsDiff(decoded.data, decodedWhole.data)).toBeLessThan(1e-4);
    expect(given).toEqual({ data: new Float32Array(0), dims: [0] });
    expect(seen[0]).toBe(whole.data.length);
    expect(seen.filter((n) => n === 0).length).toBeGreaterThan(seen.length / 2);

    // With no state kept every pass reads the input, which is then emptied only at the end.
    const unkept = { data: whole.data.slice(), dims: [...whole.dims] };
    const seenUnkept: number[] = [];
    const again = await runStaged(pkg.staged!.decoder, unkept, {
      tile: 4,
      align: 1,
      keepBytes: 0,
      consumeInput: true,
      check: () => seenUnkept.push(unkept.data.length),
    });
    expect(maxAbsDiff(again.data, decodedWhole.data)).toBeLessThan(1e-4);
    expect(seenUnkept.every((n) => n === whole.data.length)).toBe(true);
    expect(unkept.data).toHaveLength(0);

    // Without the option the caller's tensor is left as it was.
    await runStaged(pkg.staged!.decoder, kept, { tile: 4, align: 1 });
    expect(kept.dims).toEqual(whole.dims);
    expect(maxAbsDiff(kept.data, whole.data)).toBe(0);
  });

  test('a package with nearest upsampling and colorMean also matches', async () => {
    const exported = await exportTinyPackage(17, { upsample: 'nearest', colorHead: false, colorMean: true });
    exported.store.dispose();
    const nearest = await loadModelPackage(exported.dir, { intraOpThreads: 1 });
    try {
      const x = image(48, 40, 9);
      const whole = await runOutput(nearest.sessions.encoder, { image: x }, 'latent');
      const decodedWhole = await runOutput(nearest.sessions.decoder, { latent: whole }, 'image');
      const decoded = await runStaged(nearest.staged!.decoder, whole, { tile: 4, align: 1 });
      expect(maxAbsDiff(decoded.data, decodedWhole.data)).toBeLessThan(1e-4);
    } finally {
      await closeModelPackage(nearest);
      rmSync(exported.dir, { recursive: true, force: true });
    }
  });
});
