/**
 * The convolutions TSPR runs, shrunk, and the helpers that compare a kernel's results on two backends:
 * shared by the suites of the wasm kernels and of the native (onnxruntime) convolutions.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { convTranspose2dTorch } from '../../../trainer/layers/conv';
import { at } from '../../support/checked';

export type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
export interface Result {
  shape: number[];
  values: Float32Array;
}

/** Runs `fn` on `backend` and copies its tensors out, so results from two backends can be compared. */
export async function on(backend: 'cpu' | 'wasm', fn: () => tf.Tensor | tf.Tensor[]): Promise<Result[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const out = fn();
    return (Array.isArray(out) ? out : [out]).map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
  });
}

/** Largest |a − b| / max(1, |b|) over all elements: absolute for small values, relative for large ones. */
export function maxError(a: Result, b: Result): number {
  expect(a.shape).toEqual(b.shape);
  let worst = 0;
  for (let i = 0; i < b.values.length; i++) {
    const expected = at(b.values, i);
    worst = Math.max(worst, Math.abs(at(a.values, i) - expected) / Math.max(1, Math.abs(expected)));
  }
  return worst;
}

/** Deterministic pseudo-random values, identical on both backends. */
export function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

export const PAD1: Pad = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];
export const PAD2: Pad = [
  [0, 0],
  [2, 2],
  [2, 2],
  [0, 0],
];

// [input shape NHWC, filter [kh, kw, in, out], stride, padding]: the model's convolutions, shrunk.
export type Shape4 = [number, number, number, number];
export const CONV_CASES: [Shape4, Shape4, number, Pad][] = [
  [[1, 9, 9, 3], [3, 3, 3, 4], 1, 'valid'], // residual block conv after reflection padding, odd size
  [[2, 8, 8, 3], [3, 3, 3, 4], 1, 'same'],
  [[1, 8, 8, 3], [3, 3, 3, 5], 2, PAD1], // encoder downsampling conv, even size
  [[2, 9, 7, 3], [3, 3, 3, 5], 2, PAD1], // odd, non-square
  [[1, 13, 13, 3], [7, 7, 3, 2], 1, 'valid'], // 7×7 stem / output conv after reflection padding
  [[2, 6, 6, 4], [1, 1, 4, 6], 1, 'valid'], // 1×1 latent and merge convs
  [[1, 10, 10, 3], [4, 4, 3, 4], 2, PAD2], // discriminator stride-2 conv
  [[2, 7, 7, 3], [4, 4, 3, 4], 1, PAD2], // discriminator stride-1 conv, odd size
  [[1, 9, 9, 2], [3, 3, 2, 3], 2, 'same'],
  [[2, 11, 11, 2], [3, 3, 2, 3], 2, 'valid'],
];

export const label = ([x, f, s, p]: (typeof CONV_CASES)[number]): string =>
  `x ${x} filter ${f} stride ${s} pad ${JSON.stringify(p)}`;

/** [input shape, kernel, stride, padding] of transposed convolutions: the decoder's upsampling, shrunk. */
export const CONV_TRANSPOSE_CASES: [number[], number, number, number][] = [
  [[2, 5, 5, 4], 4, 2, 1], // the decoder's upsampling, odd input
  [[1, 8, 6, 3], 4, 2, 1],
  [[1, 4, 4, 2], 3, 2, 0],
];

/** A transposed convolution, its output and both gradients, for {@link on}. */
export function convTransposeWithGradients(xShape: number[], k: number, s: number, p: number): () => tf.Tensor[] {
  return () => {
    const x = seeded(xShape, 15) as tf.Tensor4D;
    const w = seeded([k, k, 3, at(xShape, 3)], 16) as tf.Tensor4D;
    const bias = seeded([3], 17) as tf.Tensor1D;
    const f = (a: tf.Tensor, b: tf.Tensor) => convTranspose2dTorch(a as tf.Tensor4D, b as tf.Tensor4D, bias, s, p);
    const y = f(x, w);
    const dy = seeded(y.shape, 18);
    return [y, ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), dy)))([x, w])];
  };
}

/** A layer-sized convolution (3×3 32→32 at 48 px), its output and both gradients, for {@link on}. */
export function layerSizedConvWithGradients(): tf.Tensor[] {
  const x = seeded([1, 48, 48, 32], 8) as tf.Tensor4D;
  const w = seeded([3, 3, 32, 32], 9) as tf.Tensor4D;
  const dy = seeded([1, 48, 48, 32], 10);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), dy)),
  )([x, w]);
  return [tf.conv2d(x, w, 1, 'same'), ...grads];
}
