/**
 * The training run behind `peerstyle train`: validates the inputs, builds or resumes the model, loops
 * over iterations with a progress bar and metric lines, checkpoints at an interval, on SIGTERM/SIGINT and
 * at the end, and writes the final weights to the model folder.
 *
 * Run folder layout (`--out`): `checkpoints/` (see checkpoint.ts), `metrics.jsonl` (one JSON object per
 * metric line, appended across resumed runs) and `model/` (the final weights, `weights.json` +
 * `weights.bin`, read by `peerstyle export`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { applyOverrides, presetConfig, type TrainConfig } from './config';
import { initBackend } from './backend';
import { iterationFlops } from './flops';
import { readTrainerEnv, type TrainerEnv } from './trainer-env';
import { parseThreads } from './wasm-threads';
import { createModel } from './model';
import { TsprTrainer, type StepLosses } from './train-step';
import { planRun } from './optim/schedule';
import { findLatestCheckpoint, readCheckpoint, restoreTrainer, saveCheckpoint } from './checkpoint';
import { indexDataset } from './data/dataset-index';
import { PairSampler, type SamplerState } from './data/pair-sampler';
import { ProgressBar, metricLine } from './progress';
import { saveWeights } from './weights';
import { InitWeightsError, readInitialWeights } from './init-weights';
import type { NamedArray } from './nn/params';
import { isModulationParam } from './layers/style-modulation';
import { checkFitsWasmHeap, isWasmHeapFailure, wasmHeapError } from './wasm-heap';

export interface TrainOptions {
  preset: string;
  overrides: Record<string, string>;
  dataDir: string;
  outDir: string;
  /**
   * The run's length: the schedule follows it (optim/schedule.ts), so the learning rate reaches 0 at
   * `steps`. With an explicit `iterations` override it only stops the run early on that schedule.
   * @default the config's `iterations`
   */
  steps?: number;
  resume: boolean;
  /**
   * Start from these weights (trainer/init-weights.ts) instead of random ones, unless the run resumes
   * from its own checkpoint.
   */
  init?: string;
  /** Checkpoint folder, when it is not `<outDir>/checkpoints` (SageMaker's /opt/ml/checkpoints). */
  checkpointDir?: string;
  /** Model folder, when it is not `<outDir>/model` (SageMaker's /opt/ml/model). */
  modelDir?: string;
  backend?: string;
  /** Threads of the wasm backend (default: PEERSTYLE_THREADS, else every logical core). */
  threads?: number;
  /** The trainer's environment variables. @default the process's (`readTrainerEnv()`) */
  env?: TrainerEnv;
  /** Also keep every checkpoint whose iteration is a multiple of this (default 0: the last two only). */
  keepEvery?: number;
  /** Where metric lines go (default stdout). */
  log?: (line: string) => void;
  /** Progress bar stream (default stderr). */
  progressStream?: NodeJS.WriteStream;
  onWarning?: (message: string) => void;
  /** Stops the loop after the current iteration (in addition to SIGTERM/SIGINT). */
  signal?: AbortSignal;
  /** Handle SIGTERM/SIGINT (default true). */
  handleSignals?: boolean;
}

export interface TrainResult {
  iteration: number;
  stoppedBySignal: boolean;
  checkpoint: string;
  modelDir: string;
  first: StepLosses | null;
  last: StepLosses | null;
  backend: string;
}

/** Keys that may change when a run resumes; all others must match the checkpoint. */
const RESUMABLE_KEYS = new Set<keyof TrainConfig>(['iterations', 'decayIterations', 'logEvery', 'checkpointEvery']);

export async function runTraining(opts: TrainOptions): Promise<TrainResult> {
  const log = opts.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const warn = opts.onWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const checkpointDir = opts.checkpointDir ?? path.join(opts.outDir, 'checkpoints');
  const modelDir = opts.modelDir ?? path.join(opts.outDir, 'model');

  // Validate everything that can be wrong before any file is written.
  let cfg = applyOverrides(presetConfig(opts.preset), opts.overrides);
  const latest = opts.resume ? await findLatestCheckpoint(checkpointDir) : null;
  let addsColourHead = false;
  const checkpoint = latest ? await readCheckpoint(latest) : null;
  if (checkpoint) {
    const saved = checkpoint.meta.config;
    const changed = (Object.keys(saved) as (keyof TrainConfig)[]).filter(
      (k) => !RESUMABLE_KEYS.has(k) && k !== 'colorHead' && k in opts.overrides && saved[k] !== cfg[k],
    );
    if (checkpoint.meta.preset !== opts.preset) {
      throw new Error(
        `The checkpoint in ${checkpointDir} was trained with preset "${checkpoint.meta.preset}", not "${opts.preset}".`,
      );
    }
    if (changed.length) {
      throw new Error(
        `Cannot change ${changed.join(', ')} when resuming; only ${[...RESUMABLE_KEYS].join(', ')} may change.`,
      );
    }
    const resumable: Partial<TrainConfig> = {};
    for (const k of RESUMABLE_KEYS) if (k in opts.overrides) Object.assign(resumable, { [k]: cfg[k] });
    // The colour head may be added to a run that lacks it (a checkpoint from before it existed, or
    // trained with it off): its parameters start from their initial values. Removing it is refused, as it
    // would throw trained weights away.
    if ('colorHead' in opts.overrides) {
      if (saved.colorHead && !cfg.colorHead)
        throw new Error('Cannot switch colorHead off when resuming: the checkpoint has trained colour-head weights.');
      resumable.colorHead = cfg.colorHead;
    }
    cfg = { ...saved, ...resumable };
    addsColourHead = cfg.colorHead && !saved.colorHead;
  }
  const initial = opts.init && !checkpoint ? await readInitialWeights(opts.init, cfg, opts.overrides) : null;
  if (initial) cfg = initial.cfg;
  const plan = planRun(cfg, opts.steps, {
    iterations: 'iterations' in opts.overrides,
    decayIterations: 'decayIterations' in opts.overrides,
  });
  cfg = { ...cfg, iterations: plan.iterations, decayIterations: plan.decayIterations };
  const stopAt = plan.stopAt;
  const index = await indexDataset(opts.dataDir, { maxCorruptFraction: cfg.maxCorruptFraction, onWarning: warn });

  const env = opts.env ?? readTrainerEnv();
  const backend = await initBackend(opts.backend, { threads: opts.threads ?? defaultTrainingThreads(cfg, env), env });
  if (backend.name === 'wasm') checkFitsWasmHeap(cfg);
  const store = createModel(cfg, cfg.seed);
  const trainer = new TsprTrainer(cfg, store);
  let sampler: PairSampler;
  let trainSeconds = 0;
  if (checkpoint) {
    const { meta, arrays } = checkpoint;
    restoreTrainer(trainer, meta, arrays, addsColourHead ? (name) => name.includes('.colour.') : undefined);
    if (addsColourHead) log('# added the colour head; its weights start from their initial values');
    sampler = new PairSampler(index, cfg, meta.sampler as SamplerState);
    trainSeconds = meta.trainSeconds;
    log(`# resumed from ${latest} at iteration ${trainer.iteration}`);
  } else {
    sampler = new PairSampler(index, cfg);
  }
  if (initial) {
    try {
      store.load(
        initial.params as Record<string, NamedArray>,
        initial.addsStyleModulation ? isModulationParam : undefined,
      );
    } catch (err) {
      throw new InitWeightsError(`Cannot start from ${opts.init}: ${(err as Error).message}`);
    }
    log(
      `# initialised from ${opts.init} (preset ${initial.sourcePreset}, ${initial.sourceIterations} iterations of its own run)`,
    );
    if (initial.addsStyleModulation) log('# added style modulation; its layers start as identity');
  } else if (opts.init && checkpoint) {
    log(`# --init ${opts.init} ignored: the run resumes from its own checkpoint`);
  }
  log(
    `# backend=${backend.name}${backend.nativeConv === true ? ' conv=onnxruntime' : ''} threads=${backend.threads} preset=${opts.preset} params=${store.count()} content=${index.content.length} ` +
      `style_classes=${index.styleClasses.length} crop=${cfg.cropSize}`,
  );
  log(
    `# schedule: lr ${cfg.learningRate} until iteration ${cfg.iterations - cfg.decayIterations}, ` +
      `then linear decay to 0 at iteration ${cfg.iterations}; stopping at ${stopAt}`,
  );

  let stopRequested = false;
  const onSignal = () => {
    stopRequested = true;
  };
  const handleSignals = opts.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  opts.signal?.addEventListener('abort', onSignal);

  const metricsFile = path.join(opts.outDir, 'metrics.jsonl');
  await fs.mkdir(opts.outDir, { recursive: true });
  const bar = new ProgressBar(stopAt, trainer.iteration, opts.progressStream);
  let first: StepLosses | null = null;
  let last: StepLosses | null = null;
  const window: StepLosses[] = [];
  let windowStart = Date.now();
  let segmentStart = Date.now();
  let lastCheckpoint = '';
  // After a failed allocation the wasm heap is in no state to free tensors: disposing them could throw
  // over the error that says what happened, and the backend is unusable either way.
  let heapExhausted = false;
  const save = async () => {
    trainSeconds += (Date.now() - segmentStart) / 1000;
    segmentStart = Date.now();
    lastCheckpoint = await saveCheckpoint({
      dir: checkpointDir,
      preset: opts.preset,
      trainer,
      sampler: sampler.state(),
      trainSeconds,
      dataset: opts.dataDir,
      keepEvery: opts.keepEvery,
    });
  };

  try {
    while (trainer.iteration < stopAt && !stopRequested) {
      // A step is synchronous, and SIGTERM's handler runs only when the event loop turns. The sampler's
      // sharp calls turn it today; one setImmediate per step (microseconds) makes sure of it, so a stop
      // request is seen before another iteration starts, whatever the data pipeline does.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (stopRequested) break;
      const batch = await sampler.next();
      let losses: StepLosses;
      try {
        losses = trainer.step(batch);
      } catch (error) {
        if (backend.name === 'wasm' && isWasmHeapFailure(error)) {
          heapExhausted = true;
          throw wasmHeapError(cfg, trainer.iteration + 1, lastCheckpoint || latest || undefined, error as Error);
        }
        throw error;
      }
      first ??= losses;
      last = losses;
      window.push(losses);
      const it = trainer.iteration;
      bar.update(it, losses as unknown as Record<string, number>);
      if (it % cfg.logEvery === 0 || it === stopAt) {
        const seconds = (Date.now() - windowStart) / 1000;
        const mean: Record<string, number> = {};
        for (const key of Object.keys(losses) as (keyof StepLosses)[]) {
          mean[key] = window.reduce((s, l) => s + l[key], 0) / window.length;
        }
        mean.lr = trainer.learningRate();
        mean.it_per_s = window.length / Math.max(seconds, 1e-9);
        log(metricLine(it, mean));
        await fs.appendFile(metricsFile, JSON.stringify({ step: it, ...mean, at: new Date().toISOString() }) + '\n');
        window.length = 0;
        windowStart = Date.now();
        bar.update(it, losses as unknown as Record<string, number>, true);
      }
      if (it % cfg.checkpointEvery === 0) await save();
      if (tf.memory().numTensors > 10_000) throw new Error(`Tensor leak: ${tf.memory().numTensors} tensors alive.`);
    }
    bar.finish();
    await save();
    if (!stopRequested)
      await saveWeights(modelDir, store, {
        preset: opts.preset,
        config: cfg,
        iteration: trainer.iteration,
        trainSeconds,
        dataset: opts.dataDir,
      });
    log(`# ${stopRequested ? 'stopped' : 'finished'} at iteration ${trainer.iteration}; checkpoint ${lastCheckpoint}`);
    return {
      iteration: trainer.iteration,
      stoppedBySignal: stopRequested,
      checkpoint: lastCheckpoint,
      modelDir,
      first,
      last,
      backend: backend.name,
    };
  } finally {
    if (handleSignals) {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
    opts.signal?.removeEventListener('abort', onSignal);
    if (!heapExhausted) {
      trainer.dispose();
      store.dispose();
    }
  }
}

/**
 * Below this many FLOPs per iteration the wasm thread pool costs more than it gives: waking the
 * workers for each of an iteration's thousands of small kernels outweighs splitting them (`tiny` ran
 * 4× slower on two threads than on one, `small`, at 41 GFLOP, 1.3× faster; bench/train-throughput.ts --sweep).
 */
const THREADED_MIN_FLOPS = 5e9;

/** Threads when neither --threads nor PEERSTYLE_THREADS says: one for small models, else the default. */
function defaultTrainingThreads(cfg: TrainConfig, env: TrainerEnv): number | undefined {
  if (parseThreads(undefined, env.threads) !== undefined) return undefined;
  return iterationFlops(cfg).total < THREADED_MIN_FLOPS ? 1 : undefined;
}
