/**
 * The learning-rate schedule and the run length: the rate never goes below zero, `steps` sets the
 * schedule's length (so a run longer than the preset's `iterations` decays to 0 at its own end instead of
 * training on with a negative rate), and a tiny run with `steps` logs the rate falling to exactly 0.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { learningRateAt } from '../../../trainer/optim/adam';
import { planRun, RunLengthError } from '../../../trainer/optim/schedule';
import { presetConfig } from '../../../trainer/config';
import { runTraining } from '../../../trainer/train';

const SAMPLE = path.join(__dirname, '..', '..', '..', 'datasets', 'sample');

describe('learningRateAt', () => {
  it('is constant, then falls linearly to 0 at the end of the schedule, and never below', () => {
    expect(learningRateAt(0, 1, 40, 20)).toBe(1);
    expect(learningRateAt(18, 1, 40, 20)).toBe(1);
    expect(learningRateAt(29, 1, 40, 20)).toBeCloseTo(1 - 10 / 21, 12);
    expect(learningRateAt(40, 1, 40, 20)).toBe(0);
    // The reference's rule alone gives −30/21 here.
    for (const it of [41, 50, 70, 1000]) expect(learningRateAt(it, 2e-4, 40, 20)).toBe(0);
  });
});

describe('planRun', () => {
  const tiny = presetConfig('tiny'); // 40 iterations, the last 20 decaying

  it('keeps the config without steps', () => {
    expect(planRun(tiny, undefined)).toEqual({ iterations: 40, decayIterations: 20, stopAt: 40 });
  });

  it('scales the schedule to steps, keeping the decay phase’s share of the run', () => {
    expect(planRun(tiny, 70)).toEqual({ iterations: 70, decayIterations: 35, stopAt: 70 });
    expect(planRun(tiny, 10)).toEqual({ iterations: 10, decayIterations: 5, stopAt: 10 });
    const plan = planRun(tiny, 70);
    const rates = Array.from({ length: 71 }, (_, it) => learningRateAt(it, 1, plan.iterations, plan.decayIterations));
    expect(Math.min(...rates)).toBe(0);
    expect(rates[70]).toBe(0);
    expect(rates[69]).toBeGreaterThan(0);
  });

  it('stops early on an explicit iterations, and refuses steps past it', () => {
    const cfg = { ...tiny, iterations: 12, decayIterations: 6 };
    expect(planRun(cfg, 5, { iterations: true })).toEqual({ iterations: 12, decayIterations: 6, stopAt: 5 });
    expect(() => planRun(cfg, 13, { iterations: true })).toThrow(RunLengthError);
    expect(() => planRun(cfg, 13, { iterations: true })).toThrow(/steps \(13\) exceeds iterations \(12\)/);
  });

  it('keeps an explicit decayIterations', () => {
    expect(planRun({ ...tiny, decayIterations: 4 }, 30, { decayIterations: true })).toEqual({
      iterations: 30,
      decayIterations: 4,
      stopAt: 30,
    });
  });

  it('continues a resumed schedule exactly when steps equals its length', () => {
    const saved = { iterations: 70, decayIterations: 35 };
    expect(planRun(saved, 70)).toEqual({ ...saved, stopAt: 70 });
    expect(planRun(saved, undefined)).toEqual({ ...saved, stopAt: 70 });
  });
});

describe('a tiny run with more steps than the preset’s iterations', () => {
  it('logs a learning rate that falls to 0 at its last step and is never negative', async () => {
    const data = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-sched-data-'));
    for (const [dir, files] of [
      ['content', ['chelsea.jpg', 'camera.jpg']],
      ['style', ['starry-night.jpg', 'brick.jpg']],
    ] as const) {
      await fs.mkdir(path.join(data, dir));
      for (const f of files) await fs.copyFile(path.join(SAMPLE, dir, f), path.join(data, dir, f));
    }
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'peerstyle-sched-run-'));
    const lines: string[] = [];
    // tiny: 40 iterations; 44 steps, logged every 4 (the last 22 decaying).
    await runTraining({
      preset: 'tiny',
      overrides: { logEvery: '4', checkpointEvery: '1000' },
      dataDir: data,
      outDir: out,
      steps: 44,
      resume: false,
      backend: 'wasm',
      handleSignals: false,
      onWarning: () => undefined,
      log: (l) => lines.push(l),
    });
    const lr = lines
      .filter((l) => l.startsWith('METRIC '))
      .map((l) => [Number(/step=(\d+)/.exec(l)![1]), Number(/ lr=([-+0-9.e]+)/.exec(l)![1])] as const);
    expect(lr.map(([step]) => step)).toEqual([4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44]);
    expect(lr.every(([, rate]) => rate >= 0)).toBe(true);
    expect(lr.at(-1)).toEqual([44, 0]);
    expect(lr.find(([step]) => step === 40)![1]).toBeGreaterThan(0);
    expect(lines).toContain(
      '# schedule: lr 0.0004 until iteration 22, then linear decay to 0 at iteration 44; stopping at 44',
    );
  }, 240_000); // 44 tiny iterations: about 40 s alone, several times that on a loaded machine
});
