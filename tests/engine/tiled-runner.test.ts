/**
 * The tiled runner against whole-image graphs: the tiled encoder (then the global-style graph) and the
 * tiled decoder reproduce the untiled latent and image, and a halo narrower than the receptive field
 * would not, which shows the comparison can fail.
 */
import { rmSync } from 'node:fs';

import { closeModelPackage, loadModelPackage, type ModelPackage } from '../../functions/engine';
import { run, type FloatTensor } from '../../functions/engine/onnx-session';
import { runTiled } from '../../functions/engine/tiled-runner';
import { randomArray, maxAbsDiff } from '../export/helpers';
import { exportTinyPackage } from './tiny-package';

let dir: string;
let pkg: ModelPackage;

beforeAll(async () => {
  const exported = await exportTinyPackage(13);
  exported.store.dispose();
  dir = exported.dir;
  pkg = await loadModelPackage(dir, { intraOpThreads: 1 });
});

afterAll(async () => {
  await closeModelPackage(pkg);
  rmSync(dir, { recursive: true, force: true });
});

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
  const whole = (await run(pkg.sessions.encoder, { image: x })).latent;
  const { encoderHalo, decoderHalo, encoderNorms, decoderNorms } = pkg.manifest.tiling!;
  const raw = await runTiled(pkg.tiled!.encoderTiled, x, {
    tile: 24,
    halo: encoderHalo,
    align: 4,
    norms: encoderNorms,
  });
  const latent = (await run(pkg.tiled!.global, { input: raw })).latent;
  expect(latent.dims).toEqual(whole.dims);
  expect(maxAbsDiff(latent.data, whole.data)).toBeLessThan(1e-4);

  const decodedWhole = (await run(pkg.sessions.decoder, { latent: whole })).image;
  const decodedTiled = await runTiled(pkg.tiled!.decoderTiled, whole, {
    tile: 5,
    halo: decoderHalo,
    align: 1,
    norms: decoderNorms,
  });
  expect(decodedTiled.dims).toEqual([1, 3, 72, 56]);
  expect(maxAbsDiff(decodedTiled.data, decodedWhole.data)).toBeLessThan(1e-4);

  const narrow = await runTiled(pkg.tiled!.encoderTiled, x, { tile: 24, halo: 4, align: 4, norms: encoderNorms });
  expect(maxAbsDiff((await run(pkg.tiled!.global, { input: narrow })).latent.data, whole.data)).toBeGreaterThan(1e-3);
});
