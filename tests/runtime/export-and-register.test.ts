/**
 * The training worker's export hook on a real weights folder (random `tiny` weights saved as the
 * trainer saves them): `peerstyle export` runs in a child process and the package is registered under
 * the requested name, whatever characters it has. A name that looks like an option (`--verify`,
 * `--name`) reaches the manifest as a name, since it travels in an options file, not as an argument.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { presetConfig } from '../../trainer/config';
import { createModel } from '../../trainer/model';
import { saveWeights } from '../../trainer/weights';
import { exportAndRegister } from '../../functions/local/worker/export-and-register';
import { openRuntime, tempDir } from './support/runtime';

async function tinyWeightsFolder(): Promise<string> {
  await tf.setBackend('cpu');
  const cfg = presetConfig('tiny');
  const store = createModel(cfg, 3);
  const dir = path.join(await tempDir('export-hook-run'), 'model');
  try {
    await saveWeights(dir, store, { preset: 'tiny', config: cfg, iteration: 2, trainSeconds: 1, dataset: 'sample' });
  } finally {
    store.dispose();
  }
  return dir;
}

describe('exportAndRegister', () => {
  it('registers a model named "--verify --name" under exactly that name', async () => {
    const rt = openRuntime(await tempDir('export-hook'));
    try {
      const modelDir = await tinyWeightsFolder();
      const { job } = await rt.jobs.create({ owner: 'alice', kind: 'TRAIN', input: {} });
      const hook = exportAndRegister({ blobs: rt.blobs, models: rt.models });
      const name = '--verify --name';
      const result = (await hook({ job, modelDir, name, lastStep: 2 })) as { modelId: string };
      const model = await rt.models.get(result.modelId, 'alice');
      expect(model?.name).toBe(name);
      const manifest = JSON.parse(
        await fs.readFile(path.join(path.dirname(modelDir), 'package', 'manifest.json'), 'utf8'),
      );
      expect(manifest.name).toBe(name);
    } finally {
      rt.close();
    }
  });
});
