/**
 * What the stylisation benchmarks share: the model they measure and the images they feed it.
 *
 * The model is the bundled default package (models/default) when it exists; otherwise a `small`-preset
 * package exported from seeded random weights into a temporary folder. Random weights cost exactly what
 * trained ones cost (the graphs and shapes are the same), so the timings hold; the pictures do not.
 * The images are synthetic (smooth gradients plus stripes, encoded as PNG by sharp) so the benchmarks
 * need no files and every run sees the same pixels.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import sharp from 'sharp';

import { must } from '../../functions/core/must';
import { presetConfig, type ModelConfig } from '../../trainer/config';
import { exportModel, readModelSource } from '../../trainer/export/model-export';
import { readManifest } from '../../trainer/export/package-format';
import { createModel } from '../../trainer/model';
import type { NamedArray, ParamStore } from '../../trainer/nn/params';
import { randomiseStore } from '../../tests/support/random-model';

/** The bundled model package, when the repository has one. */
export const DEFAULT_MODEL_DIR = path.join(__dirname, '..', '..', 'models', 'default');

/** A model package to benchmark and where its weights came from. */
export interface BenchModel {
  dir: string;
  cfg: ModelConfig;
  preset: string;
  /** One line for the benchmark's output: which weights these are. */
  origin: string;
  /** The same weights as named arrays, for the TF.js reference forward pass. */
  params: Readonly<Record<string, NamedArray>>;
  /** True when the package lives in a temporary folder this process made. */
  temporary: boolean;
}

/**
 * The default package, or a random `small` one in a new temporary folder. Exporting needs a TF.js
 * backend for the parameter store; the caller initialises one first.
 */
export async function benchModel(options: { forceRandom?: boolean; seed?: number } = {}): Promise<BenchModel> {
  let why = 'no models/default';
  if (!options.forceRandom && existsSync(path.join(DEFAULT_MODEL_DIR, 'manifest.json'))) {
    const manifest = await readManifest(DEFAULT_MODEL_DIR);
    const weights = await findWeights(DEFAULT_MODEL_DIR);
    if (weights) {
      return {
        dir: DEFAULT_MODEL_DIR,
        cfg: manifest.config,
        preset: manifest.preset,
        origin: `models/default (${manifest.name} ${manifest.version}, preset ${manifest.preset})`,
        params: weights,
        temporary: false,
      };
    }
    why = `models/default (${manifest.name}, preset ${manifest.preset}) has no weights beside it for the TF.js side`;
  }
  if (options.forceRandom) why = '--random';
  const seed = options.seed ?? 11;
  const cfg = presetConfig('small');
  const store: ParamStore = createModel(cfg, seed);
  randomiseStore(store, seed);
  const params = store.toNamedArrays();
  store.dispose();
  const dir = mkdtempSync(path.join(tmpdir(), 'peerstyle-bench-model-'));
  await exportModel(
    { params, cfg, preset: 'small', training: { dataset: 'random', iterations: 0, trainSeconds: 0 } },
    dir,
    { name: 'small-random' },
  );
  return {
    dir,
    cfg,
    preset: 'small',
    origin: `${why}: a \`small\` package exported from seeded random weights (timings hold, pictures do not)`,
    params,
    temporary: true,
  };
}

/** The weights beside a package (a `weights.json` next to it or in `model/`), when they were kept. */
async function findWeights(dir: string): Promise<Readonly<Record<string, NamedArray>> | undefined> {
  try {
    const model = await readModelSource(dir);
    return 'toNamedArrays' in model.params ? undefined : (model.params as Record<string, NamedArray>);
  } catch {
    return undefined;
  }
}

/**
 * A deterministic synthetic RGB picture of `width`×`height` as PNG bytes: two crossing gradients with
 * stripes whose period depends on `variant`, so that content and style images differ.
 */
export async function syntheticImage(width: number, height: number, variant: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  const period = 9 + 7 * variant;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 3 * (y * width + x);
      const stripe = Math.sin(((x + variant * y) * 2 * Math.PI) / period) > 0 ? 60 : 0;
      data[i] = Math.round((200 * x) / width) + (variant % 2 ? stripe : 0);
      data[i + 1] = Math.round((200 * y) / height) + (variant % 2 ? 0 : stripe);
      data[i + 2] = Math.round(128 + 100 * Math.sin((x * y) / (width * 3 + variant)));
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return must(sorted[Math.floor(sorted.length / 2)], 'a median of no values');
}
