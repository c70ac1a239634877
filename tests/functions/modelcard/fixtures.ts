/**
 * Synthetic inputs for the model-card tests: a metrics.jsonl shaped like trainer/train.ts writes it
 * (including a resumed run that appends steps it had already logged), a model package manifest with
 * placeholder graphs (the card reads the manifest only), a run folder and a small dataset manifest.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { presetConfig } from '../../../trainer/config';
import { writePackage } from '../../../trainer/export/package-writer';
import { initialColourHead } from '../../../trainer/layers/colour-head';

function initialHead(): { scaleWeight: number[]; shiftWeight: number[] } {
  const { scale, shift } = initialColourHead();
  return { scaleWeight: scale, shiftWeight: shift };
}

/** One metrics line with every loss decaying from its own start value. */
export function metricsLine(step: number, scale = 1, at?: string): string {
  const decay = Math.exp(-step / 200);
  return JSON.stringify({
    step,
    loss_idt: 2 * scale * decay + 0.01,
    loss_idt_aux: 1.5 * scale * decay + 0.02,
    loss_adv_g: 0.7 + 0.1 * Math.sin(step / 30),
    loss_d: 0.5 + 0.05 * Math.cos(step / 25),
    loss_z_cont: 0.3 * scale * decay + 0.001,
    loss_transf: 0.9 * scale * decay + 0.05,
    lr: 0.0002,
    it_per_s: 0.5,
    at: at ?? new Date(Date.UTC(2026, 0, 1, 0, 0, step)).toISOString(),
  });
}

/**
 * Steps 20..400 every 20; then a resumed run that logged 300..400 again with losses ×10, so that a
 * plot or card that kept the first record of a step instead of the last would show.
 */
export function resumedMetrics(): string {
  const lines: string[] = [];
  for (let s = 20; s <= 400; s += 20) lines.push(metricsLine(s));
  for (let s = 300; s <= 400; s += 20) lines.push(metricsLine(s, 10));
  return `${lines.join('\n')}\n`;
}

/** A package folder, a run folder and a dataset manifest in a new temporary directory. */
export async function cardFixture(): Promise<{ root: string; packageDir: string; runDir: string; dataset: string }> {
  const root = mkdtempSync(path.join(tmpdir(), 'peerstyle-card-'));
  const packageDir = path.join(root, 'package');
  const runDir = path.join(root, 'run');
  mkdirSync(path.join(runDir, 'model'), { recursive: true });
  const placeholder = new Uint8Array([1, 2, 3]);
  await writePackage(
    packageDir,
    { encoder: placeholder, tpfr: placeholder, decoder: placeholder },
    {
      name: 'card-test',
      version: '1.2.3',
      preset: 'small',
      config: presetConfig('small'),
      colourHead: { eps: 1e-5, ...initialHead(), scaleBias: [0, 0, 0], shiftBias: [0, 0, 0] },
      training: { dataset: 'sample', iterations: 111, trainSeconds: 222 },
    },
  );
  writeFileSync(path.join(runDir, 'metrics.jsonl'), resumedMetrics());
  writeFileSync(
    path.join(runDir, 'model', 'weights.json'),
    JSON.stringify({ format: 'peerstyle-weights/1', iteration: 400, trainSeconds: 5400, dataset: 'sample' }),
  );
  const dataset = path.join(root, 'manifest.json');
  writeFileSync(
    dataset,
    JSON.stringify([
      { file: 'content/a.jpg', licence: 'CC0-1.0', source: '/usr/share/a.png', debianPackage: 'pkg-a' },
      { file: 'content/b.jpg', licence: 'CC0-1.0', source: '/usr/share/b.png', debianPackage: 'pkg-a' },
      { file: 'style/c.jpg', licence: 'CC0-1.0', source: '/usr/share/c.png', debianPackage: 'pkg-b' },
      { file: 'style/d.jpg', licence: 'public domain', source: '/usr/share/d.png', debianPackage: 'pkg-c' },
      { file: 'style/e.jpg', licence: 'CC-BY-SA-4.0', source: '/usr/share/e.png', debianPackage: 'pkg-d' },
    ]),
  );
  return { root, packageDir, runDir, dataset };
}
