/**
 * `peerstyle train`: trains TSPR on an image folder (content/ + style/), locally or, with `--sagemaker`,
 * under the SageMaker training-container contract (trainer/sagemaker.ts). Config keys are set with
 * `--key=value` (for example `--ngf=32`); see trainer/config.ts for the keys and their bounds.
 *
 * Under SageMaker a completed run also exports the ONNX model package into /opt/ml/model, beside the
 * weights, named by the `model-name` hyperparameter: SageMaker uploads that folder as model.tar.gz, and
 * the platform registers the package it holds, so the worker can load a trained model without a
 * separate export step. The local runtime runs this same command in a job folder and registers the same
 * package. The weights stay, so the package can be exported again later (another opset, tiling off)
 * from the same artifact.
 */
import path from 'node:path';
import { exportModel } from '../../../trainer/export/model-export';
import { runTraining, type TrainOptions } from '../../../trainer/train';
import {
  DEFAULT_OPT_ML,
  readHyperparameters,
  resolveTrainingChannel,
  sageMakerLayout,
  writeFailure,
} from '../../../trainer/sagemaker';
import { readTrainerEnv, type TrainerEnv } from '../../../trainer/trainer-env';
import { parseThreads } from '../../../trainer/wasm-threads';
import { MODEL_NAME_HYPERPARAMETER } from '../../core/use-cases/training-input';
import { parseArgs, usage, UsageError, type FlagSpec } from '../args';

const FLAGS: Record<string, FlagSpec> = {
  preset: { type: 'string', description: 'paper, small or tiny (default small)' },
  data: { type: 'string', description: 'dataset folder with content/ and style/' },
  out: { type: 'string', description: 'run folder: checkpoints/, metrics.jsonl, model/' },
  steps: { type: 'string', description: 'stop after this iteration (default: the preset’s iterations)' },
  resume: { type: 'boolean', description: 'continue from the latest checkpoint in the run folder' },
  init: {
    type: 'string',
    description: 'start from the weights of a model package, run or checkpoint (fine-tuning) instead of random ones',
  },
  backend: { type: 'string', description: 'tensorflow (tfjs-node[-gpu]), wasm or cpu (default: best available)' },
  threads: {
    type: 'string',
    description: 'threads of the wasm backend, 1-8 (default: PEERSTYLE_THREADS, else all cores)',
  },
  'keep-every': {
    type: 'string',
    description: 'also keep each checkpoint whose iteration is a multiple of N, to average later (default: last two)',
  },
  sagemaker: { type: 'boolean', description: 'run under the SageMaker /opt/ml contract' },
  'opt-ml': { type: 'string', description: `root of the SageMaker layout (default ${DEFAULT_OPT_ML})` },
  help: { type: 'boolean', description: 'show this help' },
};

/** Hyperparameters with a meaning of their own; every other key is a config override. */
const SPECIAL_HYPERPARAMETERS = new Set([
  'preset',
  'steps',
  'backend',
  'threads',
  'keep-every',
  MODEL_NAME_HYPERPARAMETER,
]);

export async function trainCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { flags, overrides, positionals } = parseArgs(argv, FLAGS, true);
  if (flags.help) {
    process.stdout.write(usage('train', 'train the TSPR model', FLAGS));
    return 0;
  }
  if (positionals.length) throw new UsageError(`Unexpected argument "${positionals[0]}".`);
  const trainerEnv = readTrainerEnv(env);
  // SageMaker starts the trainer image as `docker run <image> train`, with no flag of ours; the image
  // sets PEERSTYLE_OPT_ML, so there `train` without --data runs under the SageMaker contract.
  const inTrainerImage = trainerEnv.optMl !== undefined && flags.data === undefined;
  if (flags.sagemaker || inTrainerImage) return trainSageMaker(flags, overrides, trainerEnv);

  if (typeof flags.data !== 'string') throw new UsageError('--data <dir> is required.');
  if (typeof flags.out !== 'string') throw new UsageError('--out <dir> is required.');
  const opts: TrainOptions = {
    preset: (flags.preset as string | undefined) ?? 'small',
    overrides,
    dataDir: path.resolve(flags.data),
    outDir: path.resolve(flags.out),
    steps: positiveIntegerFlag('steps', flags.steps as string | undefined),
    resume: Boolean(flags.resume),
    ...(typeof flags.init === 'string' ? { init: path.resolve(flags.init) } : {}),
    backend: flags.backend as string | undefined,
    threads: parseThreadsFlag(flags.threads as string | undefined, trainerEnv),
    keepEvery: positiveIntegerFlag('keep-every', flags['keep-every'] as string | undefined),
    env: trainerEnv,
  };
  const result = await runTraining(opts);
  return result.iteration > 0 ? 0 : 1;
}

function positiveIntegerFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive integer, got "${raw}".`);
  return n;
}

function parseThreadsFlag(raw: string | undefined, env: TrainerEnv): number | undefined {
  try {
    return parseThreads(raw, env.threads);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function trainSageMaker(
  flags: Record<string, unknown>,
  cliOverrides: Record<string, string>,
  env: TrainerEnv,
): Promise<number> {
  const root = (flags['opt-ml'] as string | undefined) ?? env.optMl ?? DEFAULT_OPT_ML;
  const layout = sageMakerLayout(root);
  try {
    const hyper = await readHyperparameters(layout.hyperparametersFile);
    const overrides: Record<string, string> = {};
    for (const [k, v] of Object.entries(hyper)) if (!SPECIAL_HYPERPARAMETERS.has(k)) overrides[k] = v;
    Object.assign(overrides, cliOverrides);
    const result = await runTraining({
      preset: hyper.preset ?? (flags.preset as string | undefined) ?? 'small',
      overrides,
      dataDir: await resolveTrainingChannel(layout.dataDir),
      outDir: path.join(root, 'output', 'data'),
      checkpointDir: layout.checkpointDir,
      modelDir: layout.modelDir,
      steps: positiveIntegerFlag('steps', hyper.steps ?? (flags.steps as string | undefined)),
      // SageMaker restarts a spot-interrupted job with the checkpoints restored: always resume.
      resume: true,
      backend: hyper.backend ?? (flags.backend as string | undefined),
      threads: parseThreadsFlag(hyper.threads ?? (flags.threads as string | undefined), env),
      keepEvery: positiveIntegerFlag('keep-every', hyper['keep-every'] ?? (flags['keep-every'] as string | undefined)),
      env,
    });
    // A run stopped by SIGTERM (a Spot interruption, a stop request) resumes or ends unfinished; only a
    // run that reached its last step becomes a model.
    if (!result.stoppedBySignal && result.iteration > 0) {
      const name = hyper[MODEL_NAME_HYPERPARAMETER];
      const manifest = await exportModel(result.modelDir, layout.modelDir, name !== undefined ? { name } : {});
      process.stdout.write(`# exported model package ${manifest.name} ${manifest.version} to ${layout.modelDir}\n`);
    }
    return result.iteration > 0 ? 0 : 1;
  } catch (err) {
    await writeFailure(layout.failureFile, (err as Error).message);
    throw err;
  }
}
