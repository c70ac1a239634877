/**
 * The training budget: what a training request may cost before it is queued. Two bounds, both from
 * the request's own config (the preset with its overrides), so a key cannot queue a run that would
 * occupy the machine for weeks or exhaust its memory:
 *
 * - compute: FLOPs per iteration × steps, added to the compute of the owner's other queued or running
 *   training jobs, may not pass `maxTrainingFlopsPerOwner`;
 * - memory: the estimate of one iteration may not pass `maxTrainingMemoryBytes`.
 *
 * Both per-iteration figures are the trainer's (the training-rules port: trainer/flops.ts, memory.ts).
 *
 * Either refusal is BUDGET_EXCEEDED with the request's cost and the limit in the message. The sum is
 * read when the request arrives; the per-owner cap on active training jobs bounds what two racing
 * requests can add together.
 */

import { DomainError, ErrorCode } from '../errors';
import type { Job } from '../job';
import type { IterationCost, TrainingRules } from '../ports/training-rules';
import type { UseCaseDeps } from './deps';

const TERA = 1e12;
const GIB = 1024 ** 3;
const number = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const tflop = (flops: number): string => `${number(flops / TERA, flops < 10 * TERA ? 1 : 0)} TFLOP`;
const gib = (bytes: number): string => `${number(bytes / GIB, 1)} GiB`;

/** What a training run costs by the budget's measures. */
export interface TrainingCost {
  flopsPerIteration: number;
  /** FLOPs per iteration × steps. */
  flops: number;
  /** Estimated bytes one iteration needs. */
  memoryBytes: number;
}

/** The cost of `steps` iterations that cost `perIteration` each. */
export function trainingCost(perIteration: IterationCost, steps: number): TrainingCost {
  return { ...perIteration, flops: perIteration.flopsPerIteration * steps };
}

/** The compute of a stored TRAIN job, from its input as `startTraining` stored it; 0 if unreadable. */
function storedJobFlops(rules: TrainingRules, job: Job): number {
  const input = job.input as { preset?: unknown; steps?: unknown; hyperparameters?: unknown } | null;
  if (input === null || typeof input !== 'object') return 0;
  const { preset, steps, hyperparameters } = input;
  if (typeof preset !== 'string' || typeof steps !== 'number') return 0;
  const overrides = (hyperparameters ?? {}) as Record<string, string>;
  const check = rules.checkRun(preset, overrides, steps);
  return check.ok ? trainingCost(check.cost, steps).flops : 0;
}

/** The compute of the owner's queued and running training jobs, except the one `idempotencyKey` names. */
async function activeTrainingFlops(
  deps: Pick<UseCaseDeps, 'jobs' | 'trainingRules'>,
  owner: string,
  idempotencyKey: string | undefined,
): Promise<number> {
  let total = 0;
  for (const status of ['QUEUED', 'RUNNING'] as const) {
    let cursor: string | undefined;
    do {
      const page = await deps.jobs.list(owner, { kind: 'TRAIN', status, limit: 100, ...(cursor ? { cursor } : {}) });
      for (const job of page.items) {
        // A retried request returns its own job; it must not be counted against itself.
        if (idempotencyKey === undefined || job.idempotencyKey !== idempotencyKey)
          total += storedJobFlops(deps.trainingRules, job);
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }
  return total;
}

/** Refuses with BUDGET_EXCEEDED a request whose cost passes the limits; returns its cost otherwise. */
export async function checkTrainingBudget(
  deps: Pick<UseCaseDeps, 'jobs' | 'limits' | 'trainingRules'>,
  owner: string,
  request: { perIteration: IterationCost; steps: number; idempotencyKey?: string },
): Promise<TrainingCost> {
  const cost = trainingCost(request.perIteration, request.steps);
  const { maxTrainingMemoryBytes: maxMemory, maxTrainingFlopsPerOwner: maxFlops } = deps.limits;
  if (cost.memoryBytes > maxMemory) {
    throw new DomainError(
      ErrorCode.BUDGET_EXCEEDED,
      `BUDGET_EXCEEDED: one iteration of this training needs about ${gib(cost.memoryBytes)} of memory; ` +
        `the limit is ${gib(maxMemory)} per training job. Lower cropSize, batchSize, ngf or the number of blocks.`,
      { field: 'hyperparameters', memoryBytes: cost.memoryBytes, limitBytes: maxMemory },
    );
  }
  const active = await activeTrainingFlops(deps, owner, request.idempotencyKey);
  if (active + cost.flops > maxFlops) {
    const others = active > 0 ? `, and ${tflop(active)} of this owner's training is already queued or running` : '';
    throw new DomainError(
      ErrorCode.BUDGET_EXCEEDED,
      `BUDGET_EXCEEDED: this training needs about ${tflop(cost.flops)} (${number(cost.flopsPerIteration / 1e9, 1)} ` +
        `GFLOP per iteration × ${number(request.steps)} steps)${others}; an owner's queued and running ` +
        `training may total at most ${tflop(maxFlops)}. Lower steps or the model's size, or wait for the other runs.`,
      { field: 'steps', flops: cost.flops, activeFlops: active, limitFlops: maxFlops },
    );
  }
  return cost;
}
