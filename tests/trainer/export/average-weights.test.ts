/**
 * Checkpoint averaging (trainer/export/average-weights.ts): the mean of every parameter, the training
 * record of the longest-trained model, and a clear refusal when the models cannot be averaged.
 */
import { presetConfig, type TrainConfig } from '../../../trainer/config';
import { averageModels, AverageError } from '../../../trainer/export/average-weights';
import type { LoadedModel } from '../../../trainer/export/model-export';
import { createModel } from '../../../trainer/model';
import { at, defined } from '../../support/checked';
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

const param = (model: LoadedModel, name: string) => defined(model.params[name], `parameter ${name}`);

beforeAll(useCpuBackend);

it('averages every parameter elementwise and keeps the longest-trained model’s record', () => {
  const models = [randomModel(1, 300), randomModel(2, 500), randomModel(3, 400)] as const;
  const mean = averageModels([...models]);
  const names = Object.keys(models[0].params);
  expect(Object.keys(mean.params).sort()).toEqual([...names].sort());
  for (const name of names) {
    const [a, b, c] = [param(models[0], name).data, param(models[1], name).data, param(models[2], name).data];
    const expected = a.map((x, j) => (x + at(b, j) + at(c, j)) / 3);
    expect(param(mean, name).shape).toEqual(param(models[0], name).shape);
    expect(maxAbsDiff(param(mean, name).data, expected)).toBeLessThan(1e-6);
  }
  // The models really differ, so the mean is none of them.
  const first = at(names, 0);
  expect(maxAbsDiff(param(mean, first).data, param(models[0], first).data)).toBeGreaterThan(1e-3);
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
  const lacking = { ...other, params: Object.fromEntries(kept.map((n) => [n, param(other, n)])) };
  expect(() => averageModels([base, lacking])).toThrow(`Model 2 lacks parameter "${dropped}".`);

  const bias = Object.keys(other.params).find((n) => n.endsWith('.bias'))!;
  const reshaped = { ...other, params: { ...other.params, [bias]: { shape: [1, 2], data: new Float32Array(2) } } };
  expect(() => averageModels([base, reshaped])).toThrow(
    new RegExp(`Parameter "${bias.replace(/\./g, '\\.')}" has shape \\[1, 2\\] in model 2`),
  );
});
