/**
 * Style modulation in the trainer (trainer/layers/style-modulation.ts): what it is for, that it starts
 * as identity, and that training reaches it.
 * - Without it the decoder cannot see a per-channel constant added to the style codes (the merge's
 *   instance norm removes it); with it, the same change changes the image.
 * - Zero-initialised, it renders exactly what the same weights render without it, which is what lets a
 *   model trained without it be fine-tuned with it.
 * - One training step moves the modulation weights of both decoders off zero.
 */
import * as tf from '@tensorflow/tfjs-core';

import { initBackend } from '../../../trainer/backend';
import { presetConfig, type TrainConfig } from '../../../trainer/config';
import {
  conditionStatisticsNames,
  isModulationParam,
  styleStatistics,
  updateConditionStatistics,
} from '../../../trainer/layers/style-modulation';
import { createModel } from '../../../trainer/model';
import { decode } from '../../../trainer/networks/decoder';
import type { NamedArray, ParamStore } from '../../../trainer/nn/params';
import { TsprTrainer } from '../../../trainer/train-step';
import { maxAbsDiff, randomArray, useCpuBackend } from '../../support/export-helpers';
import { randomiseStore } from '../../support/random-model';

const plain = presetConfig('tiny');
const modulated: TrainConfig = { ...plain, styleModulation: true };
const side = plain.cropSize / 4;
const total = 12 * plain.ngf;
const content = 4 * plain.ngf;

beforeAll(useCpuBackend);

function latent(seed: number): tf.Tensor4D {
  const a = randomArray([1, side, side, total], seed, 0.7);
  return tf.tensor4d(a.data, [1, side, side, total]);
}

/** The latent with `offset` added to every position of style channel `channel`. */
function shifted(z: tf.Tensor4D, channel: number, offset: number): tf.Tensor4D {
  const mask = new Float32Array(total);
  mask[channel] = offset;
  return tf.add(z, tf.tensor1d(mask)) as tf.Tensor4D;
}

function colour(): tf.Tensor2D {
  return tf.tensor2d([[0.1, -0.2, 0.05, 0.5, 0.4, 0.3]]);
}

function render(store: ParamStore, cfg: TrainConfig, z: tf.Tensor4D): Float32Array {
  return tf.tidy(() => decode(store, cfg, 'dec', z, colour()).dataSync() as Float32Array);
}

describe('a per-channel constant in the style codes', () => {
  const channel = content + 7; // a global style channel
  test('does not reach the image without modulation', () => {
    const store = createModel(plain, 3);
    randomiseStore(store, 3);
    const z = latent(1);
    const moved = shifted(z, channel, 1.5);
    expect(maxAbsDiff(render(store, plain, z), render(store, plain, moved))).toBeLessThan(1e-4);
    store.dispose();
    tf.dispose([z, moved]);
  });

  test('changes the image with it', () => {
    const store = createModel(modulated, 3);
    randomiseStore(store, 3);
    const z = latent(1);
    const moved = shifted(z, channel, 1.5);
    expect(maxAbsDiff(render(store, modulated, z), render(store, modulated, moved))).toBeGreaterThan(0.05);
    store.dispose();
    tf.dispose([z, moved]);
  });
});

test('the condition is the style channels’ mean and deviation over positions, means first', () => {
  const z = latent(4);
  const condition = styleStatistics(modulated, z);
  expect(condition.shape).toEqual([1, 2 * (total - content)]);
  const values = z.arraySync()[0]!.flat();
  const c = content + 3;
  const column = values.map((row) => row[c]!);
  const mean = column.reduce((a, b) => a + b, 0) / column.length;
  const variance = column.reduce((a, b) => a + (b - mean) ** 2, 0) / column.length;
  const got = condition.dataSync();
  expect(got[3]).toBeCloseTo(mean, 5);
  expect(got[total - content + 3]).toBeCloseTo(Math.sqrt(variance + 1e-5), 5);
  tf.dispose([z, condition]);
});

test('zero-initialised modulation renders what the same weights render without it', () => {
  const source = createModel(plain, 5);
  randomiseStore(source, 5);
  const weights = source.toNamedArrays();
  const target = createModel(modulated, 5);
  // The modulation parameters are the only ones the source lacks; they keep their initial zeros.
  target.load(weights as Record<string, NamedArray>, isModulationParam);
  const names = target.names().filter(isModulationParam);
  // 2 decoders, each with 9 norms of 4 arrays and its running statistics of the condition (3 arrays).
  expect(names.length).toBe(2 * ((1 + 2 * plain.decoderBlocks + 2) * 4 + 3));
  const z = latent(2);
  expect(maxAbsDiff(render(source, plain, z), render(target, modulated, z))).toBeLessThan(1e-5);
  source.dispose();
  target.dispose();
  z.dispose();
});

test('the running statistics of the condition are the mean and variance of the conditions seen', () => {
  const store = createModel(modulated, 6);
  const conditions = [latent(31), latent(32), latent(33)].map((z) => {
    const c = styleStatistics(modulated, z);
    z.dispose();
    return c;
  });
  for (const c of conditions) updateConditionStatistics(store, 'dec', c);
  const rows = conditions.map((c) => Array.from(c.dataSync()));
  const names = conditionStatisticsNames('dec');
  const mean = store.get(names.mean).dataSync();
  const variance = store.get(names.variance).dataSync();
  expect(store.get(names.count).dataSync()[0]).toBe(3);
  for (const k of [0, 5, 40]) {
    const column = rows.map((r) => r[k]!);
    const m = column.reduce((a, b) => a + b, 0) / 3;
    expect(mean[k]).toBeCloseTo(m, 5);
    const biased = column.map((v) => (v - m) ** 2).reduce((a, b) => a + b, 0) / 3;
    expect(variance[k]).toBeCloseTo(biased, 5);
  }
  // The other decoder's statistics did not move.
  expect(store.get(conditionStatisticsNames('decAux').count).dataSync()[0]).toBe(0);
  tf.dispose(conditions);
  store.dispose();
});

test('one training step moves both decoders’ modulation weights off zero', async () => {
  await initBackend('wasm', { threads: 1 }); // the trainer's backend, with its gradient kernels
  const cfg: TrainConfig = { ...modulated, lambdaTexture: 1 };
  const store = createModel(cfg, 9);
  const trainer = new TsprTrainer(cfg, store);
  const image = (seed: number): Float32Array =>
    Float32Array.from(randomArray([cfg.cropSize * cfg.cropSize * 3], seed, 0.5).data, (v) => Math.tanh(v));
  trainer.step({
    batchSize: 1,
    size: cfg.cropSize,
    realA: image(21),
    styleA: image(22),
    realB: image(23),
    styleB: image(24),
  });
  for (const prefix of ['dec.', 'decAux.']) {
    for (const part of ['scale', 'shift']) {
      const weight = store.get(`${prefix}block0.mod1.${part}.weight`).dataSync();
      expect(Math.max(...Array.from(weight, Math.abs))).toBeGreaterThan(0);
    }
  }
  trainer.dispose();
  store.dispose();
});
