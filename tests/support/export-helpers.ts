/**
 * Shared fixtures for the tests that compare TF.js with onnxruntime (the exporter's, the engine's and
 * `peerstyle export --verify`'s): seeded random tensors, the TF.js cpu backend, and a one-call "export
 * these layers, run them in onnxruntime, hand back NHWC numbers" path to compare against TF.js.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

import { closeSession, createSession, run, type FloatTensor } from '../../functions/engine/onnx-session';
import { layersToOnnx, type ExportOptions, type ParamSource } from '../../trainer/export/layers-to-onnx';
import type { NamedArray } from '../../trainer/nn/params';
import type { Layer } from '../../trainer/nn/spec';

/** The parity bound the exporter promises: TF.js and onnxruntime agree to this, absolutely. */
export const TOLERANCE = 1e-4;

export async function useCpuBackend(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** N(mean, std²) values from TF.js's seeded generator, as a plain array. */
export function randomArray(shape: number[], seed: number, std = 1, mean = 0): NamedArray {
  const t = tf.randomNormal(shape, mean, std, 'float32', seed);
  const data = t.dataSync() as Float32Array;
  t.dispose();
  return { shape, data: Float32Array.from(data) };
}

/** Largest |a − b| over two equally long arrays (Infinity when the lengths differ, so a mismatch fails). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return Number.isNaN(m) ? Infinity : m;
}

/** Exports the layers with an NHWC boundary, runs one batch through onnxruntime and returns every output. */
export async function runExported(
  params: ParamSource,
  layers: Layer[],
  input: NamedArray,
  options: Partial<ExportOptions> = {},
  extraFeeds: Record<string, FloatTensor> = {},
): Promise<Record<string, FloatTensor>> {
  const exported = layersToOnnx(params, layers, { inChannels: input.shape[3], layout: 'nhwc', ...options });
  const session = await createSession(exported.bytes, { intraOpThreads: 1 });
  try {
    return await run(session, { [exported.inputName]: { data: input.data, dims: input.shape }, ...extraFeeds });
  } finally {
    await closeSession(session);
  }
}

/** Runs `fn` on the input as a TF.js tensor and returns its result as a plain array. */
export function tfCompute(input: NamedArray, fn: (x: tf.Tensor4D) => tf.Tensor): NamedArray {
  return tf.tidy(() => {
    const y = fn(tf.tensor4d(input.data, input.shape as [number, number, number, number]));
    return { shape: [...y.shape], data: Float32Array.from(y.dataSync() as Float32Array) };
  });
}
