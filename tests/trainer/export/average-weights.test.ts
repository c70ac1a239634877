/**
 * Checkpoint averaging (trainer/export/average-weights.ts): the mean of every parameter, the training
 * record of the longest-trained model, and a clear refusal when the models cannot be averaged.
 */
import { presetConfig, type TrainConfig } from '../../../trainer/config';
import { averageModels, AverageError } from '../../../trainer/export/average-weights';
import type { LoadedModel } from '../../../trainer/export/model-export';
import { createModel } from '../../../trainer/model';
import { maxAbsDiff, useCpuBackend } from '../../support/export-helpers';
import { randomiseStore } from '../../support/random-model';

function randomModel(seed: number, iterations: number, cfg: TrainConfig = presetConfig('tiny')): LoadedModel {
  const store = createModel(cfg, 0);
  try {
    randomiseStore(store, seed);
    return {
      params: store.toNamedArrays(),
      cfg,
      preset: 'tiny',
      training: { dataset: 'fixtures', iterations, trainSeconds: iterations * 2 },
    };
  } finally {
    store.dispose();
  }
}

beforeAll(useCpuBackend);

it('averages every parameter elementwise and keeps the longest-trained model’s record', () => {
  const models = [randomModel(1, 300), randomModel(2, 500), randomModel(3, 400)];
  const mean = averageModels(models);
  const names = Object.keys(models[0].params);
  expect(Object.keys(mean.params).sort()).toEqual([...names].sort());
  for (const name of names) {
    const a = models.map((m) => m.params[name].data);
    const expected = a[0].map((_, j) => (a[0][j] + a[1][j] + a[2][j]) / 3);
    expect(mean.params[name].shape).toEqual(models[0].params[name].shape);
    expect(maxAbsDiff(mean.params[name].data, expected)).toBeLessThan(1e-6);
  }
  // The models really differ, so the mean is none of them.
  const first = names[0];
  expect(maxAbsDiff(mean.params[first].data, models[0].params[first].data)).toBeGreaterThan(1e-3);
  expect(mean.training).toEqual({
    dataset: 'fixtures',
    iterations: 500,
    trainSeconds: 1000,
    averagedIterations: [300, 500, 400],
  });
});

it('returns a single model unchanged', () => {
  const model = randomModel(4, 10);
  expect(averageModels([model])).toBe(model);
});

it('refuses nothing to average, another preset, another architecture and another parameter set', () => {
  const tiny = presetConfig('tiny');
  const base = randomModel(5, 10);
  expect(() => averageModels([])).toThrow(AverageError);
  expect(() => averageModels([base, { ...randomModel(6, 20), preset: 'small' }])).toThrow(
    'Model 2 has preset "small", model 1 has "tiny".',
  );
  expect(() => averageModels([base, randomModel(7, 20, { ...tiny, colorMean: false })])).toThrow(
    'Model 2 differs from model 1 in colorMean (false vs true).',
  );
  expect(() => averageModels([base, randomModel(8, 20, { ...tiny, knn: tiny.knn + 1 })])).toThrow(
    /differs from model 1 in knn/,
  );

  const other = randomModel(9, 20);
  const [dropped, ...kept] = Object.keys(other.params);
  const lacking = { ...other, params: Object.fromEntries(kept.map((n) => [n, other.params[n]])) };
  expect(() => averageModels([base, lacking])).toThrow(`Model 2 lacks parameter "${dropped}".`);

  const bias = Object.keys(other.params).find((n) => n.endsWith('.bias'))!;
  const reshaped = { ...other, params: { ...other.params, [bias]: { shape: [1, 2], data: new Float32Array(2) } } };
  expect(() => averageModels([base, reshaped])).toThrow(
    new RegExp(`Parameter "${bias.replace(/\./g, '\\.')}" has shape \\[1, 2\\] in model 2`),
  );
});
