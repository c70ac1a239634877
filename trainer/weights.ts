/**
 * Final model weights: `weights.json` (the training summary and an index of the arrays) and
 * `weights.bin` (float32 arrays back to back), the input of `peerstyle export`. Unlike a checkpoint they
 * hold no optimiser state, only what inference needs plus the discriminator (kept for fine-tuning:
 * model packages carry them too, and `peerstyle train --init` starts a run from them).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { withLegacyTrainDefaults, type TrainConfig } from './config';
import { packArrays, unpackArrays, type ArrayEntry } from './named-arrays-file';
import type { NamedArray, ParamStore } from './nn/params';

export const WEIGHTS_FORMAT = 'peerstyle-weights/1';

/** The two files' names, in a run's model/ folder and in a model package. */
export const WEIGHTS_FILES = { json: 'weights.json', bin: 'weights.bin' } as const;

export interface WeightsMeta {
  format: typeof WEIGHTS_FORMAT;
  preset: string;
  config: TrainConfig;
  iteration: number;
  trainSeconds: number;
  dataset: string;
  arrays: ArrayEntry[];
  sha256: string;
}

/** What a weights file records besides the arrays. */
export type WeightsInfo = Pick<WeightsMeta, 'preset' | 'config' | 'iteration' | 'trainSeconds' | 'dataset'>;

/** The two files' bytes: `weights.json` (summary and index) and `weights.bin` (the arrays). */
export function encodeWeights(
  arrays: Readonly<Record<string, NamedArray>>,
  info: WeightsInfo,
): { json: Buffer; bin: Buffer } {
  const { index, bin, sha256 } = packArrays(arrays);
  const meta: WeightsMeta = { format: WEIGHTS_FORMAT, ...info, arrays: index, sha256 };
  return { json: Buffer.from(JSON.stringify(meta, null, 1)), bin };
}

export async function saveWeights(dir: string, store: ParamStore, info: WeightsInfo): Promise<void> {
  const { json, bin } = encodeWeights(store.toNamedArrays(), info);
  await fs.mkdir(dir, { recursive: true });
  const tmpBin = path.join(dir, `.weights.bin.tmp-${process.pid}`);
  const tmpJson = path.join(dir, `.weights.json.tmp-${process.pid}`);
  await fs.writeFile(tmpBin, bin);
  await fs.writeFile(tmpJson, json);
  await fs.rename(tmpBin, path.join(dir, 'weights.bin'));
  await fs.rename(tmpJson, path.join(dir, 'weights.json'));
}

export async function readWeights(dir: string): Promise<{ meta: WeightsMeta; arrays: Record<string, NamedArray> }> {
  const meta = JSON.parse(await fs.readFile(path.join(dir, 'weights.json'), 'utf8')) as WeightsMeta;
  if (meta.format !== WEIGHTS_FORMAT) throw new Error(`${dir} does not hold Peerstyle weights.`);
  const bin = await fs.readFile(path.join(dir, 'weights.bin'));
  const arrays = unpackArrays(bin, meta.arrays, meta.sha256);
  if (arrays === null) throw new Error(`${dir}/weights.bin is corrupt: checksum mismatch.`);
  // Weights saved before a config key existed (the bundled package's predate decoderWidth) describe
  // the network of that time: fill the key in as checkpoints are, so they re-export and fine-tune.
  return { meta: { ...meta, config: withLegacyTrainDefaults(meta.config) }, arrays };
}
