/**
 * Shared fixtures for the tests that compare TF.js with onnxruntime (the exporter's, the engine's and
 * `peerstyle export --verify`'s): seeded random tensors, the TF.js cpu backend, and a one-call "export
 * these layers, run them in onnxruntime, hand back NHWC numbers" path to compare against TF.js.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

import {
  closeSession,
  createSession,
  run,
  type FloatTensor,
  type OnnxSession,
} from '../../functions/engine/onnx-session';
import { layersToOnnx, type ExportOptions, type ParamSource } from '../../trainer/export/layers-to-onnx';
import type { NamedArray } from '../../trainer/nn/params';
import type { Layer } from '../../trainer/nn/spec';
import { at, defined } from './checked';

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
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(at(a, i) - at(b, i)));
  return Number.isNaN(m) ? Infinity : m;
}

/** Runs `session` and returns its output `name`, which must be there. */
export async function runOutput(
  session: OnnxSession,
  feeds: Record<string, FloatTensor>,
  name: string,
): Promise<FloatTensor> {
  return defined((await run(session, feeds))[name], `output "${name}"`);
}

/** Every output of an exported graph's run: `output` is the layers' own, which every run has. */
export type ExportedOutputs = Record<string, FloatTensor | undefined> & { output: FloatTensor };

/** Exports the layers with an NHWC boundary, runs one batch through onnxruntime and returns every output. */
export async function runExported(
  params: ParamSource,
  layers: Layer[],
  input: NamedArray,
  options: Partial<ExportOptions> = {},
  extraFeeds: Record<string, FloatTensor> = {},
): Promise<ExportedOutputs> {
  const inChannels = at(input.shape, 3);
  const exported = layersToOnnx(params, layers, { inChannels, layout: 'nhwc', ...options });
  const session = await createSession(exported.bytes, { intraOpThreads: 1 });
  try {
    const feeds = { [exported.inputName]: { data: input.data, dims: input.shape }, ...extraFeeds };
    const outputs = await run(session, feeds);
    return { ...outputs, output: defined(outputs[exported.outputName], `output "${exported.outputName}"`) };
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
