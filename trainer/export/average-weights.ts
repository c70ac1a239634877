/**
 * Checkpoint averaging: the mean of the weights of several checkpoints of one run, exported as one model.
 *
 * Why: a GAN's generator does not settle. From one checkpoint to the next (a few hundred iterations
 * apart) it swings between keeping more of the content and taking more of the style, and any single
 * checkpoint is a draw from that swing. Checkpoints of one run lie close enough in weight space that
 * their mean is itself a good generator, and it sits nearer the middle of the swing (Yazıcı et al. 2019,
 * "The unusual effectiveness of averaging in GAN training"). Peerstyle's default model is such a mean;
 * see the README's "Model fidelity".
 *
 * Every parameter is averaged, the TPFR MLP's batch-norm running statistics included (their mean is the
 * running statistic of the pooled batches, up to the spread between checkpoints). The models must share
 * the preset, the architecture and every parameter's shape: anything else is refused, naming what differs.
 */
import { must } from '../../functions/core/must';
import { ARCHITECTURE_KEYS, type ModelConfig } from '../config';
import type { NamedArray } from '../nn/params';
import type { LoadedModel } from './model-export';
import type { TrainingInfo } from './package-format';

export class AverageError extends Error {
  override name = 'AverageError';
}

/**
 * The elementwise mean of the models' parameters, with the config and training record of the model
 * trained longest (its `averagedIterations` lists every model's iteration count, in the given order).
 */
export function averageModels(models: readonly LoadedModel[]): LoadedModel {
  const [first] = models;
  if (first === undefined) throw new AverageError('Nothing to average: no models given.');
  if (models.length === 1) return first;
  for (const [i, m] of models.entries()) {
    if (m.preset !== first.preset)
      throw new AverageError(`Model ${i + 1} has preset "${m.preset}", model 1 has "${first.preset}".`);
    const key = differingArchitectureKey(first.cfg, m.cfg);
    if (key !== undefined)
      throw new AverageError(
        `Model ${i + 1} differs from model 1 in ${key} (${String(m.cfg[key])} vs ${String(first.cfg[key])}).`,
      );
    checkSameParameters(first.params, m.params, i + 1);
  }

  const params: Record<string, NamedArray> = {};
  for (const [name, a] of Object.entries(first.params)) {
    // Summed in float64 so the mean of many checkpoints does not pick up float32 rounding.
    const sum = new Float64Array(a.data.length);
    for (const [i, m] of models.entries()) {
      // checkSameParameters has made every model's parameters the first one's, in name and shape.
      const data = must(m.params[name], `parameter "${name}" of model ${i + 1}`).data;
      for (let j = 0; j < data.length; j++) sum[j]! += data[j]!;
    }
    const mean = new Float32Array(sum.length);
    for (let j = 0; j < sum.length; j++) mean[j] = sum[j]! / models.length;
    params[name] = { shape: [...a.shape], data: mean };
  }

  const longest = models.reduce((best, m) =>
    (m.training?.iterations ?? -1) > (best.training?.iterations ?? -1) ? m : best,
  );
  const training: TrainingInfo | undefined = longest.training && {
    ...longest.training,
    averagedIterations: models.map((m) => m.training?.iterations ?? -1),
  };
  return { params, cfg: longest.cfg, preset: longest.preset, ...(training ? { training } : {}) };
}

function differingArchitectureKey(a: ModelConfig, b: ModelConfig): keyof ModelConfig | undefined {
  return ARCHITECTURE_KEYS.find((key) => a[key] !== b[key]);
}

function checkSameParameters(
  reference: Readonly<Record<string, NamedArray>>,
  other: Readonly<Record<string, NamedArray>>,
  index: number,
): void {
  for (const name of Object.keys(reference))
    if (!(name in other)) throw new AverageError(`Model ${index} lacks parameter "${name}".`);
  for (const [name, a] of Object.entries(other)) {
    const ref = reference[name];
    if (ref === undefined) throw new AverageError(`Model ${index} has parameter "${name}", which model 1 lacks.`);
    if (ref.shape.join('x') !== a.shape.join('x'))
      throw new AverageError(
        `Parameter "${name}" has shape [${a.shape.join(', ')}] in model ${index}, [${ref.shape.join(', ')}] in model 1.`,
      );
  }
}
