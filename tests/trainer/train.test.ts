/**
 * End-to-end training on the tiny preset (wasm backend, fixed seed): the reconstruction losses fall, no
 * tensors leak once the optimisers' state exists, and a run stopped and resumed from its checkpoint
 * ends with exactly the weights of an uninterrupted run.
 */
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTraining } from '../../trainer/train';
import { initBackend } from '../../trainer/backend';
import { initialColourHead } from '../../trainer/layers/colour-head';
import { readWeights } from '../../trainer/weights';
import { exportModel } from '../../trainer/export/model-export';
import { presetConfig } from '../../trainer/config';
import { createModel } from '../../trainer/model';
import { TsprTrainer } from '../../trainer/train-step';
import { indexDataset } from '../../trainer/data/dataset-index';
import { PairSampler } from '../../trainer/data/pair-sampler';
import type { NamedArray } from '../../trainer/nn/params';
import { at, defined } from '../support/checked';

/** The values of one saved array, which must be there. */
const values = (weights: { arrays: Record<string, NamedArray> }, name: string): Float32Array =>
  defined(weights.arrays[name], `array ${name}`).data;

const SAMPLE = path.join(__dirname, '..', '..', 'datasets', 'sample');

async function makeDataset(): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-train-'));
  await fs.mkdir(path.join(root, 'content'), { recursive: true });
  await fs.mkdir(path.join(root, 'style'), { recursive: true });
  for (const f of ['astronaut.jpg', 'chelsea.jpg', 'camera.jpg']) {
    await fs.copyFile(path.join(SAMPLE, 'content', f), path.join(root, 'content', f));
  }
  for (const f of ['starry-night.jpg', 'brick.jpg', 'autumn.jpg']) {
    await fs.copyFile(path.join(SAMPLE, 'style', f), path.join(root, 'style', f));
  }
  return root;
}

const quiet = { log: () => undefined, onWarning: () => undefined, handleSignals: false, backend: 'wasm' };

describe('tiny training run', () => {
  let data: string;
  beforeAll(async () => {
    await initBackend('wasm');
    data = await makeDataset();
  });

  it('lowers the reconstruction losses on a batch it trains on', async () => {
    const cfg = presetConfig('tiny');
    const index = await indexDataset(data, { maxCorruptFraction: 0.1 });
    const batch = await new PairSampler(index, cfg).next();
    const store = createModel(cfg, cfg.seed);
    const trainer = new TsprTrainer(cfg, store);
    const idt: number[] = [];
    const idtAux: number[] = [];
    for (let i = 0; i < 40; i++) {
      const l = trainer.step(batch);
      idt.push(l.loss_idt);
      idtAux.push(l.loss_idt_aux);
    }
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    expect(mean(idt.slice(-5))).toBeLessThan(0.7 * mean(idt.slice(0, 5)));
    // The auxiliary reconstruction is weighted 25 times less (λ_idt_aux = 1 against λ_idt = 25) and
    // shares its optimiser with the encoder's latent losses, so it falls more slowly (by ~18% here).
    expect(mean(idtAux.slice(-5))).toBeLessThan(0.9 * mean(idtAux.slice(0, 5)));
    trainer.dispose();
    store.dispose();
  });

  it('trains with colorCov: the reconstruction loss falls and no tensors leak', async () => {
    const cfg = { ...presetConfig('tiny'), colorMean: true, colorStd: true, colorCov: true };
    const index = await indexDataset(data, { maxCorruptFraction: 0.1 });
    const batch = await new PairSampler(index, cfg).next();
    const store = createModel(cfg, cfg.seed);
    const trainer = new TsprTrainer(cfg, store);
    const idt: number[] = [trainer.step(batch).loss_idt];
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 30; i++) idt.push(trainer.step(batch).loss_idt);
    expect(tf.memory().numTensors).toBe(after1);
    expect(idt.every(Number.isFinite)).toBe(true);
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    expect(mean(idt.slice(-5))).toBeLessThan(0.8 * mean(idt.slice(0, 5)));
    trainer.dispose();
    store.dispose();
  });

  it('leaks no tensors after a burn-in iteration', async () => {
    const cfg = presetConfig('tiny');
    const index = await indexDataset(data, { maxCorruptFraction: 0.1 });
    const sampler = new PairSampler(index, cfg);
    const store = createModel(cfg, cfg.seed);
    const trainer = new TsprTrainer(cfg, store);
    trainer.step(await sampler.next());
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) trainer.step(await sampler.next());
    expect(tf.memory().numTensors).toBe(after1);
    trainer.dispose();
    store.dispose();
  });

  it('resumes to exactly the weights of an uninterrupted run', async () => {
    const overrides = { iterations: '12', decayIterations: '6', checkpointEvery: '100', logEvery: '3' };
    const straight = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-run-a-'));
    const split = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-run-b-'));
    const lines: string[] = [];
    await runTraining({
      ...quiet,
      preset: 'tiny',
      overrides,
      dataDir: data,
      outDir: straight,
      resume: false,
      log: (l) => lines.push(l),
    });
    const first = await runTraining({
      ...quiet,
      preset: 'tiny',
      overrides,
      dataDir: data,
      outDir: split,
      resume: false,
      steps: 5,
    });
    expect(first.iteration).toBe(5);
    const second = await runTraining({
      ...quiet,
      preset: 'tiny',
      overrides,
      dataDir: data,
      outDir: split,
      resume: true,
    });
    expect(second.iteration).toBe(12);

    const a = await readWeights(path.join(straight, 'model'));
    const b = await readWeights(path.join(split, 'model'));
    expect(Object.keys(b.arrays)).toEqual(Object.keys(a.arrays));
    let maxDiff = 0;
    for (const [name, arr] of Object.entries(a.arrays)) {
      const other = values(b, name);
      arr.data.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - at(other, i)))));
    }
    expect(maxDiff).toBe(0);
    // Metric lines at every logEvery, scrapable by the documented pattern.
    expect(lines.filter((l) => /^METRIC step=\d+ .*loss_idt=[-+0-9.e]+/.test(l)).map((l) => l.split(' ')[1])).toEqual([
      'step=3',
      'step=6',
      'step=9',
      'step=12',
    ]);
  });

  it('keeps the last two checkpoints, and with keepEvery also each multiple of it', async () => {
    const overrides = { iterations: '8', decayIterations: '4', checkpointEvery: '2', logEvery: '4' };
    const checkpoints = async (keepEvery?: number): Promise<string[]> => {
      const out = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-keep-'));
      await runTraining({ ...quiet, preset: 'tiny', overrides, dataDir: data, outDir: out, resume: false, keepEvery });
      const names = (await fs.readdir(path.join(out, 'checkpoints'))).filter((n) => n.startsWith('ckpt-')).sort();
      // Each checkpoint names the data it trained on, so a package exported from one can say it.
      const state = JSON.parse(await fs.readFile(path.join(out, 'checkpoints', at(names, 0), 'state.json'), 'utf8'));
      expect(state.dataset).toBe(data);
      return names;
    };
    expect(await checkpoints()).toEqual(['ckpt-00000006', 'ckpt-00000008']);
    expect(await checkpoints(4)).toEqual(['ckpt-00000004', 'ckpt-00000006', 'ckpt-00000008']);
  });

  it('adds the colour head to a run that lacks it when resuming, and refuses to remove it', async () => {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-run-head-'));
    // colorMean off: it and the colour head are exclusive.
    const base = { iterations: '6', decayIterations: '3', checkpointEvery: '100', logEvery: '100', colorMean: 'false' };
    await runTraining({
      ...quiet,
      preset: 'tiny',
      overrides: { ...base, colorHead: 'false' },
      dataDir: data,
      outDir: out,
      resume: false,
      steps: 3,
    });
    const before = await readWeights(path.join(out, 'model'));
    expect(Object.keys(before.arrays).some((n) => n.includes('.colour.'))).toBe(false);
    expect(before.meta.config.colorHead).toBe(false);

    const lines: string[] = [];
    const resumed = await runTraining({
      ...quiet,
      preset: 'tiny',
      overrides: { ...base, colorHead: 'true' },
      dataDir: data,
      outDir: out,
      resume: true,
      log: (l) => lines.push(l),
    });
    expect(resumed.iteration).toBe(6);
    expect(lines).toContain('# added the colour head; its weights start from their initial values');
    const after = await readWeights(path.join(out, 'model'));
    expect(after.meta.config.colorHead).toBe(true);
    // Both decoders gained the head, and it trained: its weights moved from their initial values.
    const head = values(after, 'dec.colour.shiftWeight');
    expect(after.arrays['decAux.colour.scaleWeight']).toBeDefined();
    const initial = initialColourHead().shift;
    expect(head.some((v, i) => Math.abs(v - at(initial, i)) > 1e-6)).toBe(true);
    // It continued from the checkpoint rather than starting over.
    expect(lines.some((l) => /^# resumed from .* at iteration 3$/.test(l))).toBe(true);

    await expect(
      runTraining({
        ...quiet,
        preset: 'tiny',
        overrides: { ...base, iterations: '8', colorHead: 'false' },
        dataDir: data,
        outDir: out,
        resume: true,
      }),
    ).rejects.toThrow('Cannot switch colorHead off when resuming');
  });

  it('starts a new run from an exported package’s weights, taking its architecture', async () => {
    /** A tiny run from `init` in a new folder, for the starts that must be refused. */
    const startFrom = async (init: string, overrides: Record<string, string>): Promise<unknown> =>
      runTraining({
        ...quiet,
        preset: 'tiny',
        overrides,
        dataDir: data,
        outDir: await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-init-bad-')),
        resume: false,
        init,
      });
    const base = { iterations: '4', decayIterations: '2', checkpointEvery: '100', logEvery: '2' };
    const source = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-init-src-'));
    const pkg = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-init-pkg-'));
    // A source run wider than tiny's default, so the new run must take ngf from the package.
    await runTraining({
      ...quiet,
      preset: 'tiny',
      overrides: { ...base, ngf: '6' },
      dataDir: data,
      outDir: source,
      resume: false,
    });
    const manifest = await exportModel(path.join(source, 'model'), pkg, { tiled: false });
    expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining(['weights.json', 'weights.bin']));
    const exported = await readWeights(pkg);
    const trained = await readWeights(path.join(source, 'model'));
    expect(values(exported, 'enc.pre.conv0.weight')).toEqual(values(trained, 'enc.pre.conv0.weight'));

    // Learning rate ~0: one iteration leaves the weights where the package had them.
    const lines: string[] = [];
    const tuned = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-init-run-'));
    await runTraining({
      ...quiet,
      preset: 'tiny',
      overrides: { ...base, iterations: '1', decayIterations: '0', learningRate: '1e-8' },
      dataDir: data,
      outDir: tuned,
      resume: false,
      init: pkg,
      log: (l) => lines.push(l),
    });
    expect(lines.some((l) => l.startsWith(`# initialised from ${pkg} (preset tiny, 4 iterations`))).toBe(true);
    const after = await readWeights(path.join(tuned, 'model'));
    expect(after.meta.config.ngf).toBe(6);
    for (const name of Object.keys(trained.arrays)) {
      // Batch-norm running statistics move with every forward pass, whatever the learning rate.
      if (/\.running(Mean|Var)$/.test(name)) continue;
      const a = values(after, name);
      const b = values(trained, name);
      const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - at(b, i))), 0);
      expect([name, worst < 1e-4]).toEqual([name, true]);
    }

    // Without --init the same run starts from random weights, far from the package's.
    const fresh = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-init-fresh-'));
    await runTraining({
      ...quiet,
      preset: 'tiny',
      overrides: { ...base, ngf: '6', iterations: '1', decayIterations: '0', learningRate: '1e-8' },
      dataDir: data,
      outDir: fresh,
      resume: false,
    });
    const random = await readWeights(path.join(fresh, 'model'));
    const w = values(random, 'enc.pre.conv0.weight');
    const t = values(trained, 'enc.pre.conv0.weight');
    expect(w.some((v, i) => Math.abs(v - at(t, i)) > 1e-3)).toBe(true);

    // A wider decoder starts from the package's: its upsampling path is widened, the rest carries over.
    const widened = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-init-wide-'));
    const wideLines: string[] = [];
    await runTraining({
      ...quiet,
      preset: 'tiny',
      overrides: { ...base, iterations: '1', decayIterations: '0', learningRate: '1e-8', decoderWidth: '2' },
      dataDir: data,
      outDir: widened,
      resume: false,
      init: pkg,
      log: (l) => wideLines.push(l),
    });
    const wide = await readWeights(path.join(widened, 'model'));
    expect(wide.meta.config).toMatchObject({ ngf: 6, decoderWidth: 2 });
    expect(wide.arrays['dec.up2.weight']?.shape).toEqual([5, 5, 24, 12]);
    expect(wide.arrays['decAux.out.weight']?.shape).toEqual([7, 7, 12, 3]);
    const merge = values(trained, 'dec.merge.weight');
    expect(values(wide, 'dec.merge.weight').every((v, i) => Math.abs(v - at(merge, i)) < 1e-4)).toBe(true);
    expect(wideLines.some((l) => l.startsWith(`# initialised from ${pkg}`))).toBe(true);
    // From a width-2 model, width 3 is no whole number of copies.
    const widePkg = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-init-widepkg-'));
    await exportModel(path.join(widened, 'model'), widePkg, { tiled: false });
    await expect(startFrom(widePkg, { ...base, decoderWidth: '3' })).rejects.toThrow(
      "decoderWidth=3 is not a multiple of the weights' own 2",
    );

    // Style modulation added to the package's weights: its layers start at zero, the rest carries over.
    const modulatedRun = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-init-mod-'));
    const modLines: string[] = [];
    await runTraining({
      ...quiet,
      preset: 'tiny',
      overrides: { ...base, iterations: '1', decayIterations: '0', learningRate: '1e-8', styleModulation: 'true' },
      dataDir: data,
      outDir: modulatedRun,
      resume: false,
      init: pkg,
      log: (l) => modLines.push(l),
    });
    expect(modLines).toContain('# added style modulation; its layers start as identity');
    const modulated = await readWeights(path.join(modulatedRun, 'model'));
    expect(modulated.meta.config).toMatchObject({ ngf: 6, styleModulation: true });
    expect(values(modulated, 'dec.merge.weight').every((v, i) => Math.abs(v - at(merge, i)) < 1e-4)).toBe(true);
    expect(Math.max(...values(modulated, 'decAux.up2.mod.shift.weight').map(Math.abs))).toBeLessThan(1e-4);
    // Weights with modulation cannot drop it, nor be widened.
    const modPkg = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-init-modpkg-'));
    await exportModel(path.join(modulatedRun, 'model'), modPkg, { tiled: false });
    await expect(startFrom(modPkg, { ...base, styleModulation: 'false' })).rejects.toThrow(
      'were trained with styleModulation=true',
    );
    await expect(startFrom(modPkg, { ...base, decoderWidth: '2' })).rejects.toThrow(
      'decoderWidth cannot change for weights trained with styleModulation=true',
    );

    // A width the package's shapes cannot fill is refused with the parameter named.
    await expect(startFrom(pkg, { ...base, ngf: '5' })).rejects.toThrow(
      /Cannot start from .*: Parameter ".*" has shape/,
    );
    // A folder without weights is refused with what was expected.
    await expect(
      runTraining({
        ...quiet,
        preset: 'tiny',
        overrides: base,
        dataDir: data,
        outDir: tuned,
        resume: false,
        init: data,
      }),
    ).rejects.toThrow(/Cannot start from .*No weights found/);
  });

  it('refuses, before writing anything, a run whose tensors alone outgrow the wasm heap', async () => {
    const out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-heap-')), 'run');
    // `paper` at its 256 px crop keeps about 4.7 GiB of tensors per iteration; wasm32 memory stops at 4.
    await expect(
      runTraining({ ...quiet, preset: 'paper', overrides: {}, dataDir: data, outDir: out, resume: false, threads: 1 }),
    ).rejects.toThrow(
      /^One iteration of this run cannot fit in the wasm backend's memory: .* 256 px crop, batch 1, ngf 64 keeps at least 4\.\d GiB/,
    );
    await expect(fs.access(out)).rejects.toThrow(/ENOENT/);
  });
});
