/**
 * A model package with random `tiny` weights, exported into a temporary folder for the engine and CLI
 * tests: the real exporter, real ONNX graphs, nothing trained (the tests check plumbing and invariants,
 * not beauty). The TF.js store is returned too, for comparisons against the reference forward pass.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

import { presetConfig, type ModelConfig } from '../../trainer/config';
import { exportModel } from '../../trainer/export/model-export';
import { createModel } from '../../trainer/model';
import type { ParamStore } from '../../trainer/nn/params';
import { randomiseStore } from './random-model';

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'images');

/** Exports a random tiny model to a new temporary folder; the caller removes `dir` and disposes `store`. */
export async function exportTinyPackage(
  seed = 7,
  overrides: Partial<ModelConfig> = {},
): Promise<{ dir: string; store: ParamStore; cfg: ModelConfig }> {
  await tf.setBackend('cpu');
  await tf.ready();
  const cfg = { ...presetConfig('tiny'), ...overrides };
  const store = createModel(cfg, seed);
  randomiseStore(store, seed);
  const dir = mkdtempSync(path.join(tmpdir(), 'peerstyle-model-'));
  await exportModel(
    { params: store, cfg, preset: 'tiny', training: { dataset: 'random', iterations: 0, trainSeconds: 0 } },
    dir,
    { name: 'tiny-random' },
  );
  return { dir, store, cfg };
}
