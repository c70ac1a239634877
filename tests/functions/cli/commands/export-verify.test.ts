/**
 * `peerstyle export --verify` on weights saved the way a training run saves them: the real command
 * exports the package (with the inference defaults it is given), then compares TF.js and onnxruntime
 * stage by stage on two sample images.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { presetConfig, type TrainConfig } from '../../../../trainer/config';
import { createModel } from '../../../../trainer/model';
import { saveWeights } from '../../../../trainer/weights';
import { useCpuBackend } from '../../../support/export-helpers';
import { randomiseStore } from '../../../support/random-model';
import { runCli } from '../../../support/run-cli';
import { at } from '../../../support/checked';

/**
 * Saves a random `tiny` model's weights in `run`/model as a training run does (`savedConfig` is what
 * weights.json records, which older runs wrote without the newer keys); returns `run`.
 */
async function saveRandomRun(
  run: string,
  seed: number,
  iteration: number,
  cfg: TrainConfig = presetConfig('tiny'),
  savedConfig: TrainConfig = cfg,
): Promise<string> {
  const store = createModel(cfg, 3);
  if (seed !== 0) randomiseStore(store, seed); // 0: the model's own initial weights
  await saveWeights(path.join(run, 'model'), store, {
    preset: 'tiny',
    config: savedConfig,
    iteration,
    trainSeconds: 1,
    dataset: 'fixtures',
  });
  store.dispose();
  return run;
}

it('exports trained-like weights and reports stage-by-stage parity within 1e-4', async () => {
  await useCpuBackend();
  const run = await saveRandomRun(await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-verify-')), 7, 5);
  const out = path.join(run, 'package');
  const r = await runCli([
    'export',
    '--checkpoint',
    run,
    '--out',
    out,
    '--verify',
    '--structure-default',
    'keep',
    '--style-size-default',
    '96',
    '--render-scale-default',
    '2',
  ]);
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
  const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8'));
  expect(manifest.training.iterations).toBe(5);
  expect(manifest.defaults).toEqual({ structure: 'keep', styleSize: 96, renderScale: 2 });
  // A default style side the API could not be asked for is refused before anything is written.
  const refused = await runCli(['export', '--checkpoint', run, '--out', `${out}-2`, '--style-size-default', '20']);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/--style-size-default must be a whole number of pixels in 64\.\.2048, got "20"/);
  await expect(fs.access(`${out}-2`)).rejects.toThrow();
  const scale = await runCli(['export', '--checkpoint', run, '--out', `${out}-3`, '--render-scale-default', '5']);
  expect(scale.code).not.toBe(0);
  expect(scale.stderr).toMatch(/--render-scale-default must be a number in 1\.\.4, got "5"/);
  await expect(fs.access(`${out}-3`)).rejects.toThrow();
  // These weights have no style modulation: there is no condition to read at a fixed side.
  const side = await runCli(['export', '--checkpoint', run, '--out', `${out}-4`, '--condition-side-default', '128']);
  expect(side.code).not.toBe(0);
  expect(side.stderr).toMatch(/--condition-side-default: the model has no style modulation/);
  await expect(fs.access(`${out}-4`)).rejects.toThrow();
});

it('exports the mean of two checkpoints, verifies it and records which iterations went in', async () => {
  await useCpuBackend();
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-average-'));
  const runs = [
    await saveRandomRun(path.join(root, 'run-300'), 11, 300),
    await saveRandomRun(path.join(root, 'run-600'), 12, 600),
  ];
  const out = path.join(root, 'package');
  const r = await runCli([
    'export',
    '--checkpoint',
    at(runs, 0),
    '--checkpoint',
    at(runs, 1),
    '--out',
    out,
    '--verify',
  ]);
  expect(r.stderr).not.toMatch(/peerstyle export:/);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/the mean of 2 checkpoints \(iterations 300, 600\)/);
  expect(r.stdout).toMatch(/decoder \S+ \(ok: tolerance/);
  const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8'));
  expect(manifest.training).toMatchObject({ iterations: 600, averagedIterations: [300, 600] });

  // Each run alone exports other graphs than their mean.
  const single = path.join(root, 'single');
  expect((await runCli(['export', '--checkpoint', at(runs, 1), '--out', single])).code).toBe(0);
  const singleManifest = JSON.parse(await fs.readFile(path.join(single, 'manifest.json'), 'utf8'));
  expect(singleManifest.files['decoder.onnx'].sha256).not.toBe(manifest.files['decoder.onnx'].sha256);
  expect(singleManifest.training.averagedIterations).toBeUndefined();
});

it('refuses to average checkpoints of different architectures, naming the difference', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-average-bad-'));
  const runs: string[] = [];
  for (const colorHead of [true, false]) {
    runs.push(await saveRandomRun(path.join(root, `run-${colorHead}`), 0, 1, { ...presetConfig('tiny'), colorHead }));
  }
  const out = path.join(root, 'package');
  const r = await runCli(['export', '--checkpoint', at(runs, 0), '--checkpoint', at(runs, 1), '--out', out]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/Model 2 differs from model 1 in colorHead \(false vs true\)/);
  await expect(fs.access(out)).rejects.toThrow();
});

it("exports weights saved before the newer config keys existed, as the bundled package's were", async () => {
  await useCpuBackend();
  const cfg = presetConfig('tiny');
  const { decoderWidth: _width, lambdaGrid: _grid, lambdaTextureCodes: _codes, ...older } = cfg;
  const run = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-old-weights-'));
  await saveRandomRun(run, 5, 2, cfg, older as TrainConfig);
  const out = path.join(run, 'package');
  const r = await runCli(['export', '--checkpoint', path.join(run, 'model'), '--out', out, '--verify']);
  expect(r.stderr).not.toMatch(/peerstyle export:/);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/decoder \S+ \(ok: tolerance/);
  const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8'));
  expect(manifest.config.decoderWidth).toBe(1);
});

it('--set changes how the weights render (colorCov here) and refuses keys that would change their shapes', async () => {
  await useCpuBackend();
  const cfg = { ...presetConfig('tiny'), colorMean: true, colorStd: true };
  const run = await saveRandomRun(await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-set-')), 9, 4, cfg);
  const out = path.join(run, 'package');
  const r = await runCli(['export', '--checkpoint', run, '--out', out, '--set', 'colorCov=true', '--verify']);
  expect(r.stderr).not.toMatch(/peerstyle export:/);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/with colorCov=true\./);
  expect(r.stdout).toMatch(/decoder \S+ \(ok: tolerance/);
  const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8'));
  expect(manifest.config.colorCov).toBe(true);
  // The package's own weights carry the setting, so a fine-tune from it trains with it.
  const weights = JSON.parse(await fs.readFile(path.join(out, 'weights.json'), 'utf8'));
  expect(weights.config.colorCov).toBe(true);

  for (const [source, setting, message] of [
    [run, 'ngf=8', /--set: "ngf=8": expected key=value with key one of knn, colorStd, colorCov/],
    [run, 'knn=0', /--set: knn must be between 1 and 64, got 0\./],
    [run, 'knn=2.5', /--set: knn must be an integer, got 2\.5\./],
    [run, 'colorStd=maybe', /--set: colorStd must be true or false, got "maybe"\./],
    // The package exported above has colorCov, which the trainer's own rule ties to colorStd.
    [out, 'colorStd=false', /colorCov matches the covariance on top of colorMean and colorStd/],
  ] as const) {
    const refused = await runCli(['export', '--checkpoint', source, '--out', `${out}-bad`, '--set', setting]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(message);
    await expect(fs.access(`${out}-bad`)).rejects.toThrow();
  }
});
