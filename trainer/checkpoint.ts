/**
 * Training checkpoints: everything a run needs to continue exactly where it stopped (weights, batch-norm
 * state, the three optimisers' moments, the discriminator's history buffer, the random generators and
 * the data sampler's position), written atomically.
 *
 * Layout of a checkpoint folder `<dir>/ckpt-<iteration>/`: `state.json` (config, counters, and an index
 * of the arrays) and `tensors.bin` (the arrays, float32 little-endian, back to back), with the sha256 of
 * tensors.bin in state.json. It is assembled under a temporary name and renamed into place, then the
 * `<dir>/latest` pointer is replaced by rename, so a crash at any moment leaves the previous checkpoint
 * intact and never a partial one.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { withLegacyTrainDefaults, type TrainConfig } from './config';
import { packArrays, unpackArrays } from './named-arrays-file';
import type { NamedArray, ParamStore } from './nn/params';
import type { TsprTrainer, TrainerState } from './train-step';
import type { AdamState } from './optim/adam';
import type { ImagePoolState } from './image-pool';

export const CHECKPOINT_FORMAT = 'peerstyle-checkpoint/1';

export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  preset: string;
  config: TrainConfig;
  trainer: TrainerState;
  sampler: unknown;
  optimisers: Record<'aux' | 'main' | 'disc', { step: number }>;
  pool: { rng: number; entries: number };
  arrays: { key: string; shape: number[]; offset: number; length: number }[];
  sha256: string;
  createdAt: string;
  /** Wall-clock seconds spent training, summed over every resumed run. */
  trainSeconds: number;
  /** The dataset folder the run trains on (absent in checkpoints of older runs). */
  dataset?: string;
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  path: string;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

const KEEP = 2;

function checkpointName(iteration: number): string {
  return `ckpt-${String(iteration).padStart(8, '0')}`;
}

/** Collects every array of the run under stable keys. */
function collectArrays(trainer: TsprTrainer): Record<string, NamedArray> {
  const out: Record<string, NamedArray> = {};
  for (const [name, a] of Object.entries(trainer.store.toNamedArrays())) out[`param/${name}`] = a;
  const adam: [string, AdamState][] = [
    ['aux', trainer.aux.state()],
    ['main', trainer.main.state()],
    ['disc', trainer.disc.state()],
  ];
  for (const [group, state] of adam) {
    for (const [name, { m, v }] of Object.entries(state.moments)) {
      out[`adam/${group}/m/${name}`] = m;
      out[`adam/${group}/v/${name}`] = v;
    }
  }
  const pool = trainer.pool.state();
  pool.entries.forEach((e, i) => {
    for (const part of ['real', 'fake', 'style'] as const) {
      out[`pool/${i}/${part}`] = { shape: [e[part].length], data: e[part] };
    }
  });
  return out;
}

export interface SaveOptions {
  dir: string;
  preset: string;
  trainer: TsprTrainer;
  sampler: unknown;
  trainSeconds: number;
  dataset?: string;
  /**
   * Besides the last two, keep every checkpoint whose iteration is a multiple of this (0: none), so that a
   * run leaves checkpoints to average (`peerstyle export` with several `--checkpoint`s).
   */
  keepEvery?: number;
}

/** Writes a checkpoint atomically and prunes older ones; returns its folder. */
export async function saveCheckpoint(opts: SaveOptions): Promise<string> {
  const { dir, trainer } = opts;
  await fs.mkdir(dir, { recursive: true });
  const arrays = collectArrays(trainer);
  const { index, bin, sha256 } = packArrays(arrays);
  const poolState = trainer.pool.state();
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    preset: opts.preset,
    config: trainer.cfg,
    trainer: trainer.state(),
    sampler: opts.sampler,
    optimisers: {
      aux: { step: trainer.aux.state().step },
      main: { step: trainer.main.state().step },
      disc: { step: trainer.disc.state().step },
    },
    pool: { rng: poolState.rng, entries: poolState.entries.length },
    // A checkpoint's index names an array by "key" (weights files say "name").
    arrays: index.map(({ name, ...where }) => ({ key: name, ...where })),
    sha256,
    createdAt: new Date().toISOString(),
    trainSeconds: opts.trainSeconds,
    dataset: opts.dataset,
  };
  const name = checkpointName(trainer.iteration);
  const tmp = path.join(dir, `.${name}.tmp-${process.pid}`);
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp);
  await writeDurably(path.join(tmp, 'tensors.bin'), bin);
  await writeDurably(path.join(tmp, 'state.json'), Buffer.from(JSON.stringify(meta)));
  const final = path.join(dir, name);
  await fs.rm(final, { recursive: true, force: true });
  await fs.rename(tmp, final);
  await writeDurably(path.join(dir, `.latest.tmp-${process.pid}`), Buffer.from(name + '\n'));
  await fs.rename(path.join(dir, `.latest.tmp-${process.pid}`), path.join(dir, 'latest'));
  await prune(dir, name, opts.keepEvery ?? 0);
  return final;
}

async function writeDurably(file: string, data: Buffer): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function prune(dir: string, keepName: string, keepEvery: number): Promise<void> {
  const names = (await fs.readdir(dir)).filter((n) => /^ckpt-\d+$/.test(n)).sort();
  const milestone = (n: string) => keepEvery > 0 && Number(n.slice('ckpt-'.length)) % keepEvery === 0;
  const old = names
    .filter((n) => n !== keepName)
    .slice(0, Math.max(0, names.length - KEEP))
    .filter((n) => !milestone(n));
  for (const n of old) await fs.rm(path.join(dir, n), { recursive: true, force: true });
  // Temporary folders of crashed writers.
  for (const n of await fs.readdir(dir)) {
    if (n.startsWith('.ckpt-') && !n.endsWith(`-${process.pid}`)) {
      await fs.rm(path.join(dir, n), { recursive: true, force: true });
    }
  }
}

/** Finds the latest complete checkpoint in `dir`, or null when there is none. */
export async function findLatestCheckpoint(dir: string): Promise<string | null> {
  try {
    const name = (await fs.readFile(path.join(dir, 'latest'), 'utf8')).trim();
    const folder = path.join(dir, name);
    await fs.access(path.join(folder, 'state.json'));
    return folder;
  } catch {
    return null;
  }
}

/** Reads and verifies a checkpoint's metadata and arrays. */
export async function readCheckpoint(
  folder: string,
): Promise<{ meta: CheckpointMeta; arrays: Record<string, NamedArray> }> {
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(await fs.readFile(path.join(folder, 'state.json'), 'utf8')) as CheckpointMeta;
  } catch (err) {
    throw new CheckpointError(`Cannot read checkpoint ${folder}: ${(err as Error).message}`);
  }
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${folder} is not a Peerstyle checkpoint (format "${String(meta.format)}").`);
  }
  meta.config = withLegacyTrainDefaults(meta.config);
  const bin = await fs.readFile(path.join(folder, 'tensors.bin'));
  const index = meta.arrays.map(({ key, ...where }) => ({ name: key, ...where }));
  const arrays = unpackArrays(bin, index, meta.sha256);
  if (arrays === null) throw new CheckpointError(`Checkpoint ${folder} is corrupt: tensors.bin checksum mismatch.`);
  return { meta, arrays };
}

/**
 * Loads the model parameters only (for export and inference). `keepInitial` names parameters the
 * checkpoint may lack (see ParamStore.load).
 */
export function loadParams(
  store: ParamStore,
  arrays: Record<string, NamedArray>,
  keepInitial?: (name: string) => boolean,
): void {
  const params: Record<string, NamedArray> = {};
  for (const [key, a] of Object.entries(arrays)) if (key.startsWith('param/')) params[key.slice(6)] = a;
  store.load(params, keepInitial);
}

/** The checkpoint's array `key`: its meta and its names promise it, so one without it is damaged. */
function arrayOf(arrays: Record<string, NamedArray>, key: string): NamedArray {
  const array = arrays[key];
  if (array === undefined) throw new CheckpointError(`The checkpoint has no array "${key}"; it is incomplete.`);
  return array;
}

/**
 * Restores a trainer (weights, optimisers, pool, counters) from checkpoint arrays. Parameters the
 * checkpoint lacks and `keepInitial` accepts start from their initial values, with fresh optimiser moments.
 */
export function restoreTrainer(
  trainer: TsprTrainer,
  meta: CheckpointMeta,
  arrays: Record<string, NamedArray>,
  keepInitial?: (name: string) => boolean,
): void {
  loadParams(trainer.store, arrays, keepInitial);
  const groups = { aux: trainer.aux, main: trainer.main, disc: trainer.disc } as const;
  for (const [group, opt] of Object.entries(groups)) {
    const moments: AdamState['moments'] = {};
    const prefix = `adam/${group}/m/`;
    for (const key of Object.keys(arrays)) {
      if (!key.startsWith(prefix)) continue;
      const name = key.slice(prefix.length);
      moments[name] = { m: arrayOf(arrays, key), v: arrayOf(arrays, `adam/${group}/v/${name}`) };
    }
    opt.load({ step: meta.optimisers[group as keyof typeof groups].step, moments });
  }
  const entries: ImagePoolState['entries'] = [];
  for (let i = 0; i < meta.pool.entries; i++) {
    entries.push({
      real: arrayOf(arrays, `pool/${i}/real`).data,
      fake: arrayOf(arrays, `pool/${i}/fake`).data,
      style: arrayOf(arrays, `pool/${i}/style`).data,
    });
  }
  trainer.pool.load({ entries, rng: meta.pool.rng });
  trainer.load(meta.trainer);
}
