/**
 * The output colour step (`colorMean`, and `colorStd` on top of it): each channel of the decoder's
 * output takes the exemplar's mean, and with `colorStd` its deviation too; the engine's twin
 * (functions/engine/colour-head.ts) gives the same numbers as the trainer's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { withMeanColour as engineStep } from '../../../functions/engine/colour-head';
import { initBackend } from '../../../trainer/backend';
import { applyOverrides, presetConfig } from '../../../trainer/config';
import { COLOUR_STD_FLOOR, withMeanColour } from '../../../trainer/layers/colour-head';
import { Mulberry32 } from '../../../trainer/rng';
import { at } from '../../support/checked';

const H = 12;
const W = 10;

/** A seeded image [1, H, W, 3] with a different spread per channel. */
function image(seed: number): tf.Tensor4D {
  const rng = new Mulberry32(seed);
  const spread = [0.2, 0.5, 0.05];
  return tf.tensor4d(
    Float32Array.from({ length: H * W * 3 }, (_, i) => 0.1 + at(spread, i % 3) * (rng.next() * 2 - 1)),
    [1, H, W, 3],
  );
}

/** Per-channel mean and deviation of [1, H, W, 3]. */
function moments(t: tf.Tensor4D): { mean: number[]; std: number[] } {
  const { mean, variance } = tf.moments(t, [0, 1, 2]);
  return { mean: [...mean.dataSync()], std: [...tf.sqrt(variance).dataSync()] };
}

const stats = [0.3, -0.2, 0.05, 0.25, 0.1, 0.4]; // means R, G, B; deviations R, G, B

beforeAll(async () => {
  await initBackend('cpu');
});

test('colorMean sets the means and keeps the deviations; colorStd sets both', () => {
  const input = image(1);
  const before = moments(input);
  const meanOnly = moments(withMeanColour(input, tf.tensor2d([stats])));
  const both = moments(withMeanColour(input, tf.tensor2d([stats]), true));
  meanOnly.mean.forEach((m, c) => expect(m).toBeCloseTo(at(stats, c), 5));
  meanOnly.std.forEach((s, c) => expect(s).toBeCloseTo(at(before.std, c), 5));
  both.mean.forEach((m, c) => expect(m).toBeCloseTo(at(stats, c), 5));
  // The floor shrinks the gain slightly: std = target · σ / √(σ² + floor²).
  both.std.forEach((s, c) => {
    const sigma = at(before.std, c);
    expect(s).toBeCloseTo((at(stats, c + 3) * sigma) / Math.sqrt(sigma ** 2 + COLOUR_STD_FLOOR ** 2), 4);
  });
});

test('a flat output is not blown up: the gain is bounded by the floor', () => {
  const flat = tf.fill([1, H, W, 3], 0.2) as tf.Tensor4D;
  const out = withMeanColour(flat, tf.tensor2d([stats]), true);
  const { mean, std } = moments(out);
  mean.forEach((m, c) => expect(m).toBeCloseTo(at(stats, c), 5));
  std.forEach((s) => expect(s).toBeLessThan(1e-4));
});

test('the engine’s twin gives the trainer’s numbers, in NCHW', () => {
  for (const matchStd of [false, true]) {
    const input = image(2);
    const expected = tf.transpose(withMeanColour(input, tf.tensor2d([stats]), matchStd), [0, 3, 1, 2]).dataSync();
    const nchw = Float32Array.from(tf.transpose(input, [0, 3, 1, 2]).dataSync());
    const got = engineStep({ data: nchw, dims: [1, 3, H, W] }, stats, matchStd).data;
    const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - at(expected, i))), 0);
    expect(worst).toBeLessThan(1e-5);
  }
});

test('colorStd without colorMean is refused', () => {
  expect(() => applyOverrides(presetConfig('paper'), { colorStd: 'true' })).toThrow(
    /colorStd matches the deviation on top of colorMean/,
  );
  expect(applyOverrides(presetConfig('small'), { colorStd: 'true' }).colorStd).toBe(true);
});
