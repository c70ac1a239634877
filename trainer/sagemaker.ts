/**
 * The SageMaker training-container contract, so `peerstyle train` runs unchanged as a managed training
 * job: hyperparameters from `<root>/input/config/hyperparameters.json` (every value a string), input
 * channels under `<root>/input/data/<channel>`, the model written to `<root>/model`, checkpoints kept in
 * `<root>/checkpoints` (synced to S3 by SageMaker), and a failure reason in `<root>/output/failure`.
 * The root is /opt/ml, overridable (`--opt-ml` or PEERSTYLE_OPT_ML) for local runs.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export const DEFAULT_OPT_ML = '/opt/ml';

/** The channel training reads its dataset from when several are given. */
export const TRAINING_CHANNEL = 'training';

export interface SageMakerLayout {
  root: string;
  hyperparametersFile: string;
  dataDir: string;
  modelDir: string;
  checkpointDir: string;
  failureFile: string;
}

export function sageMakerLayout(root: string): SageMakerLayout {
  return {
    root,
    hyperparametersFile: path.join(root, 'input', 'config', 'hyperparameters.json'),
    dataDir: path.join(root, 'input', 'data'),
    modelDir: path.join(root, 'model'),
    checkpointDir: path.join(root, 'checkpoints'),
    failureFile: path.join(root, 'output', 'failure'),
  };
}

/** Reads hyperparameters.json; a missing file means none. Values must be strings (SageMaker sends strings). */
export async function readHyperparameters(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${file} must hold a JSON object of hyperparameters.`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) out[k] = String(v);
  return out;
}

/** The dataset folder: the `training` channel, or the only channel present. */
export async function resolveTrainingChannel(dataDir: string): Promise<string> {
  let channels: string[];
  try {
    channels = (await fs.readdir(dataDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    throw new Error(`No input channels: ${dataDir} does not exist.`);
  }
  if (channels.includes(TRAINING_CHANNEL)) return path.join(dataDir, TRAINING_CHANNEL);
  const [only] = channels;
  if (only !== undefined && channels.length === 1) return path.join(dataDir, only);
  throw new Error(
    `Cannot choose the training channel in ${dataDir}: expected "${TRAINING_CHANNEL}" or a single channel, found [${channels.join(', ')}].`,
  );
}

/** Writes the failure reason where SageMaker reports it (DescribeTrainingJob's FailureReason). */
export async function writeFailure(file: string, message: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  // SageMaker truncates the reason to 1 KiB.
  await fs.writeFile(file, message.slice(0, 1024));
}
