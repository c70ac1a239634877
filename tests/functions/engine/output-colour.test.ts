/**
 * A package with `colorCov`, through the engine: the output takes the style's whole colour covariance
 * (a grey style gives a grey image, where `colorStd` alone keeps the content's hues), strength 0 gives
 * the content's own, and the exporter's stage-by-stage parity holds with the step on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import sharp from 'sharp';

import { createEngine } from '../../../functions/engine';
import {
  covarianceMoments,
  planeGaussian,
  pooledGaussian,
  type ColourGaussian,
  type Matrix3,
} from '../../../functions/engine/colour-covariance';
import type { RgbImage } from '../../../functions/engine/image-io';
import type { FloatTensor } from '../../../functions/engine/onnx-session';
import { outputColourStep } from '../../../functions/engine/output-colour';
import { presetConfig } from '../../../trainer/config';
import { Mulberry32 } from '../../../trainer/rng';
import { checkParity } from '../../../trainer/export/parity';
import { exportTinyPackage, FIXTURES } from '../../support/tiny-package';

const photo = path.join(FIXTURES, 'photo-1.jpg');
const painting = path.join(FIXTURES, 'painting-1.jpg');
const COLOUR = { colorMean: true, colorStd: true } as const;

/** Mean and covariance of an encoded image's pixels, in [-1, 1] units. */
async function gaussianOfImage(image: Buffer | string): Promise<ReturnType<typeof planeGaussian>> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const plane = info.width * info.height;
  const nchw = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) nchw[c * plane + p] = data[3 * p + c]! / 127.5 - 1;
  return planeGaussian(nchw, plane);
}

/** How far from grey: the largest deviation of any channel from the pixel's mean, in grey levels. */
async function chroma(image: Buffer): Promise<number> {
  const { data } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let sum = 0;
  for (let p = 0; p < data.length; p += 3) {
    const m = (data[p]! + data[p + 1]! + data[p + 2]!) / 3;
    sum += Math.max(Math.abs(data[p]! - m), Math.abs(data[p + 1]! - m), Math.abs(data[p + 2]! - m));
  }
  return sum / (data.length / 3);
}

let out: string;
let greyPainting: Buffer;
beforeAll(async () => {
  out = mkdtempSync(path.join(tmpdir(), 'peerstyle-colour-'));
  greyPainting = await sharp(painting).greyscale().toColourspace('srgb').png().toBuffer();
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

test('a grey style gives a grey image with colorCov; with colorStd alone the content’s hues stay', async () => {
  const chromas: Record<string, number> = {};
  for (const [name, overrides] of [
    ['std', COLOUR],
    ['cov', { ...COLOUR, colorCov: true }],
  ] as const) {
    const { dir, store } = await exportTinyPackage(21, overrides);
    const engine = await createEngine({ modelDir: dir, intraOpThreads: 1 });
    try {
      const result = await engine.stylize({ content: photo, styles: [{ image: greyPainting }], format: 'png' });
      chromas[name] = await chroma(result.image);
    } finally {
      await engine.close();
      store.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  expect(chromas.cov!).toBeLessThan(1); // rounding to bytes only
  expect(chromas.std!).toBeGreaterThan(5);
});

test('through the engine, the output has the style’s mean and covariance', async () => {
  const { dir, store } = await exportTinyPackage(22, { ...COLOUR, colorCov: true });
  const engine = await createEngine({ modelDir: dir, intraOpThreads: 1 });
  try {
    // The style is read at the output's long side; resampling moves its statistics a little.
    const result = await engine.stylize({ content: photo, styles: [{ image: painting }], format: 'png' });
    const got = await gaussianOfImage(result.image);
    const want = await gaussianOfImage(painting);
    got.mean.forEach((m, c) => expect(Math.abs(m - want.mean[c]!)).toBeLessThan(0.01));
    got.cov.forEach((v, i) => expect(Math.abs(v - want.cov[i]!)).toBeLessThan(0.005));
  } finally {
    await engine.close();
    store.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the colour step blends the content’s and the styles’ Gaussians by strength, styles pooled by weight', async () => {
  const read = async (file: string | Buffer): Promise<RgbImage> => {
    const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data), width: info.width, height: info.height };
  };
  const content = await read(photo);
  const a = await read(painting);
  const b = await read(path.join(FIXTURES, 'painting-2.jpg'));
  const manifest = { config: { ...presetConfig('tiny'), ...COLOUR, colorCov: true } };
  const decoded = (): FloatTensor => {
    const rng = new Mulberry32(5);
    return { data: Float32Array.from({ length: 3 * 40 * 30 }, () => rng.next() - 0.5), dims: [1, 3, 30, 40] };
  };
  const covOf = (image: RgbImage): Matrix3 => pooledGaussian([{ moments: covarianceMoments(image), weight: 1 }]).cov;
  const after = (strength: number, styles: { image: RgbImage; weight: number }[]): ColourGaussian =>
    planeGaussian(outputColourStep(manifest, content, styles, strength)(decoded()).data, 30 * 40);
  const close = (got: number[], want: number[]): void =>
    got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(2e-3));

  close(after(0, [{ image: a, weight: 1 }]).cov, covOf(content));
  close(after(1, [{ image: a, weight: 1 }]).cov, covOf(a));
  close(
    after(0.5, [{ image: a, weight: 1 }]).cov,
    covOf(content).map((v, i) => (v + covOf(a)[i]!) / 2),
  );
  // Weight 0 removes a style; two styles pool their pixels.
  close(
    after(1, [
      { image: a, weight: 1 },
      { image: b, weight: 0 },
    ]).cov,
    covOf(a),
  );
  const pooled = pooledGaussian([
    { moments: covarianceMoments(a), weight: 1 },
    { moments: covarianceMoments(b), weight: 3 },
  ]);
  close(
    after(1, [
      { image: a, weight: 1 },
      { image: b, weight: 3 },
    ]).mean,
    pooled.mean,
  );
  close(
    after(1, [
      { image: a, weight: 1 },
      { image: b, weight: 3 },
    ]).cov,
    pooled.cov,
  );
});

test('export parity holds with colorCov: TF.js’s decoder against the graph with the engine’s step', async () => {
  const { dir, store, cfg } = await exportTinyPackage(23, { ...COLOUR, colorCov: true });
  try {
    const report = await checkParity(dir, store, cfg, photo, painting);
    expect(report.decoder).toBeLessThan(2e-4);
    expect(report.encoder).toBeLessThan(1e-4);
  } finally {
    store.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
