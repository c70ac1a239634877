/**
 * `colorCov`: the output takes the exemplar's colour mean and covariance by the optimal transport map
 * between the two Gaussians. The trainer's step (the map as a constant in the graph) and the engine's
 * must give the same numbers, the map must hit its target, and a flat output or a grey exemplar must
 * not break it.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  COVARIANCE_FLOOR,
  multiply,
  planeGaussian,
  symmetricEigen,
  transportColours,
  transportMatrix,
  type ColourGaussian,
  type Matrix3,
} from '../../../functions/engine/colour-covariance';
import { initBackend } from '../../../trainer/backend';
import { applyOverrides, presetConfig } from '../../../trainer/config';
import { colourGaussians, withColourCovariance } from '../../../trainer/layers/colour-covariance';
import { Mulberry32 } from '../../../trainer/rng';
import { at } from '../../support/checked';

const H = 16;
const W = 12;

/** A seeded image [1, H, W, 3] whose channels are correlated (a shared component) with their own spreads. */
function correlatedImage(seed: number, mix: number[]): tf.Tensor4D {
  const rng = new Mulberry32(seed);
  const data = new Float32Array(H * W * 3);
  for (let p = 0; p < H * W; p++) {
    const shared = rng.next() * 2 - 1;
    for (let c = 0; c < 3; c++) data[3 * p + c] = 0.1 * c - 0.1 + at(mix, c) * shared + 0.15 * (rng.next() * 2 - 1);
  }
  return tf.tensor4d(data, [1, H, W, 3]);
}

/** The image's Gaussian as the engine reads it (NCHW). */
function gaussianOf(image: tf.Tensor4D): ColourGaussian {
  const nchw = Float32Array.from(tf.transpose(image, [0, 3, 1, 2]).dataSync());
  return planeGaussian(nchw, H * W);
}

const asRow = (g: ColourGaussian): tf.Tensor2D => tf.tensor2d([[...g.mean, ...g.cov]]);

function worstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

beforeAll(async () => {
  await initBackend('cpu');
});

test('the eigendecomposition rebuilds its matrix', () => {
  const m: Matrix3 = [0.3, 0.12, -0.05, 0.12, 0.2, 0.07, -0.05, 0.07, 0.1];
  const { values, vectors } = symmetricEigen(m);
  const diag: Matrix3 = [values[0], 0, 0, 0, values[1], 0, 0, 0, values[2]];
  const transposed = [0, 3, 6, 1, 4, 7, 2, 5, 8].map((i) => vectors[i]!) as Matrix3;
  expect(worstDiff(multiply(multiply(vectors, diag), transposed), m)).toBeLessThan(1e-12);
  expect(worstDiff(multiply(vectors, transposed), [1, 0, 0, 0, 1, 0, 0, 0, 1])).toBeLessThan(1e-12);
});

test('the transport matrix is symmetric and carries the source covariance onto the target', () => {
  const source: Matrix3 = [0.2, 0.15, 0.1, 0.15, 0.18, 0.09, 0.1, 0.09, 0.12];
  const target: Matrix3 = [0.05, -0.02, 0.0, -0.02, 0.3, 0.1, 0.0, 0.1, 0.08];
  const a = transportMatrix(source, target);
  expect(
    worstDiff(
      a,
      [0, 3, 6, 1, 4, 7, 2, 5, 8].map((i) => a[i]!),
    ),
  ).toBeLessThan(1e-12);
  // A (S + floor·I) A = T exactly; on S itself the floor leaves a trace of it.
  const floored = source.map((v, i) => (i % 4 === 0 ? v + COVARIANCE_FLOOR : v)) as Matrix3;
  expect(worstDiff(multiply(multiply(a, floored), a), target)).toBeLessThan(1e-12);
  // Between equal covariances the map moves nothing, up to the floor.
  expect(worstDiff(transportMatrix(source, source), [1, 0, 0, 0, 1, 0, 0, 0, 1])).toBeLessThan(5e-3);
});

test('the trainer’s step gives its image the target’s mean and covariance, as the engine’s does, to 1e-5', () => {
  const input = correlatedImage(1, [0.3, 0.1, -0.2]);
  for (const target of [
    gaussianOf(correlatedImage(2, [0.05, 0.4, 0.35])),
    // A grey exemplar: R = G = B, a covariance of rank one.
    gaussianOf(
      tf.tile(tf.slice(correlatedImage(3, [0.3, 0, 0]), [0, 0, 0, 0], [1, H, W, 1]), [1, 1, 1, 3]) as tf.Tensor4D,
    ),
  ]) {
    const trained = withColourCovariance(input, asRow(target));
    const got = gaussianOf(trained);
    expect(worstDiff(got.mean, target.mean)).toBeLessThan(1e-5);
    expect(worstDiff(got.cov, target.cov)).toBeLessThan(2e-3); // the floor shrinks it a little
    const nchw = Float32Array.from(tf.transpose(input, [0, 3, 1, 2]).dataSync());
    transportColours(nchw, H * W, target);
    expect(worstDiff(nchw, tf.transpose(trained, [0, 3, 1, 2]).dataSync())).toBeLessThan(1e-5);
  }
});

test('a flat output stays flat; the gradient is finite for a grey exemplar and is the map’s, mean removed', () => {
  const flat = tf.fill([1, H, W, 3], 0.2) as tf.Tensor4D;
  const target = gaussianOf(correlatedImage(4, [0.3, 0.3, 0.3]));
  const out = gaussianOf(withColourCovariance(flat, asRow(target)));
  expect(worstDiff(out.mean, target.mean)).toBeLessThan(1e-5);
  expect(Math.max(...out.cov.map(Math.abs))).toBeLessThan(1e-8);

  // Loss Σ y·G: with the map held constant, ∂/∂x = G·A with its mean over the pixels removed.
  const grey = tf.tile(tf.slice(correlatedImage(5, [0.3, 0, 0]), [0, 0, 0, 0], [1, H, W, 1]), [1, 1, 1, 3]);
  const x = correlatedImage(6, [0.2, 0.1, 0]);
  const g = correlatedImage(8, [0.5, -0.3, 0.1]);
  const gaussians = colourGaussians(grey as tf.Tensor4D);
  const grad = tf.grad((v) => tf.sum(tf.mul(withColourCovariance(v as tf.Tensor4D, gaussians), g)))(x);
  const a = transportMatrix(gaussianOf(x).cov, gaussianOf(grey as tf.Tensor4D).cov);
  const ga = tf.matMul(tf.reshape(g, [H * W, 3]), tf.tensor2d(a, [3, 3]));
  const expected = tf.sub(ga, tf.mean(ga, 0, true)).dataSync();
  expect(grad.dataSync().every(Number.isFinite)).toBe(true);
  expect(worstDiff(grad.dataSync(), expected)).toBeLessThan(1e-4);
});

test('colourGaussians reads the same mean and covariance as the engine', () => {
  const image = correlatedImage(7, [0.2, -0.1, 0.3]);
  const row = colourGaussians(image).dataSync();
  const engine = gaussianOf(image);
  expect(worstDiff(row, [...engine.mean, ...engine.cov])).toBeLessThan(1e-6);
});

test('colorCov needs colorStd (and so colorMean)', () => {
  expect(() => applyOverrides(presetConfig('small'), { colorCov: 'true' })).toThrow(
    /colorCov matches the covariance on top of colorMean and colorStd/,
  );
  expect(applyOverrides(presetConfig('small'), { colorStd: 'true', colorCov: 'true' }).colorCov).toBe(true);
});
