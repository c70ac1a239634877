/**
 * `peerstyle export --verify` on weights saved the way a training run saves them: the real command
 * exports the package, then compares TF.js and onnxruntime stage by stage on two sample images.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { presetConfig } from '../../trainer/config';
import { createModel } from '../../trainer/model';
import { saveWeights } from '../../trainer/weights';
import { useCpuBackend } from '../export/helpers';
import { randomiseStore } from '../export/random-model';
import { runCli } from './run-cli';

it('exports trained-like weights and reports stage-by-stage parity within 1e-4', async () => {
  await useCpuBackend();
  const cfg = presetConfig('tiny');
  const store = createModel(cfg, 3);
  randomiseStore(store, 7);
  const run = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-verify-'));
  await saveWeights(path.join(run, 'model'), store, {
    preset: 'tiny',
    config: cfg,
    iteration: 5,
    trainSeconds: 1,
    dataset: 'fixtures',
  });
  store.dispose();
  const out = path.join(run, 'package');
  const r = await runCli(['export', '--checkpoint', run, '--out', out, '--verify']);
  expect(r.stderr).not.toMatch(/peerstyle export:/);
  expect(r.code).toBe(0);
  const line =
    /Parity TF\.js \(cpu\) vs onnxruntime, max \|difference\|: encoder (\S+), TPFR (\S+) \((\d+) of (\d+) rows;.*\), decoder (\S+) \(ok/.exec(
      r.stdout,
    );
  expect(line).not.toBeNull();
  for (const figure of [line![1], line![2], line![5]]) expect(Number(figure)).toBeLessThan(1e-4);
  // Random weights give well-separated neighbours: nearly every row is compared.
  expect(Number(line![3])).toBeGreaterThan(0.9 * Number(line![4]));
  expect(JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8')).training.iterations).toBe(5);
});
