/**
 * `startTraining`: validates a training request and queues it.
 *
 * The request becomes the job's input through `parseTrainingRequest` (training-input.ts), which checks
 * the preset, the run length, the hyperparameters (with the trainer's own rules, reporting every
 * problem at once), the model name and the dataset's form. Here the run's cost must then fit the
 * training budget (`training-budget.ts`), and a dataset of uploads must hold a `content/` group with at
 * least one file and a `style/` group with at least two.
 */

import { DomainError, ErrorCode } from '../errors';
import type { Job } from '../job';
import type { UseCaseDeps } from './deps';
import { enqueueJob } from './enqueue-job';
import { checkTrainingBudget } from './training-budget';
import { checkDatasetLayout, MIN_STYLE_IMAGES } from './training-dataset';
import { parseTrainingRequest, type TrainingRequest } from './training-input';

/**
 * A quick look at an upload prefix's layout, so that a set bound to fail is refused now rather than
 * once its job runs; the runner checks every file's format when it copies the set (`checkDatasetLayout`
 * again).
 */
async function checkUploadedDataset(deps: Pick<UseCaseDeps, 'blobs'>, prefix: string): Promise<void> {
  const page = await deps.blobs.list({ prefix, limit: 1 });
  if (page.items.length === 0) {
    throw new DomainError(ErrorCode.NOT_FOUND, `dataset.uploadPrefix: no uploads under ${JSON.stringify(prefix)}.`, {
      field: 'dataset.uploadPrefix',
    });
  }
  const files: string[] = [];
  for (const folder of ['content', 'style'] as const) {
    const found = await deps.blobs.list({ prefix: `${prefix}${folder}/`, limit: MIN_STYLE_IMAGES });
    found.items.forEach((_, index) => files.push(`${folder}/${index}`));
  }
  checkDatasetLayout(files, { prefix, skipped: 0 });
}

/** Validates `request` and queues a TRAIN job owned by `owner`. */
export async function startTraining(
  deps: Pick<UseCaseDeps, 'blobs' | 'limits' | 'jobs' | 'queue' | 'starters' | 'events' | 'trainingRules'>,
  owner: string,
  request: TrainingRequest,
): Promise<Job> {
  const { input, cost } = parseTrainingRequest(owner, request, deps.limits, deps.trainingRules);
  await checkTrainingBudget(deps, owner, {
    perIteration: cost,
    steps: input.steps,
    ...(request.idempotencyKey != null ? { idempotencyKey: request.idempotencyKey } : {}),
  });
  if ('uploadPrefix' in input.dataset) await checkUploadedDataset(deps, input.dataset.uploadPrefix);
  return enqueueJob(deps, {
    owner,
    kind: 'TRAIN',
    input,
    ...(request.idempotencyKey != null ? { idempotencyKey: request.idempotencyKey } : {}),
  });
}
