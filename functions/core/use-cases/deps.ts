/**
 * What the use cases need from the outside world: the ports, a clock and the platform's limits.
 *
 * The composition root builds one `UseCaseDeps` from the configuration and the chosen adapters; each
 * use case takes only the parts it uses (`Pick<UseCaseDeps, ...>`), so a test can hand it exactly
 * those and nothing else.
 */

import { DEFAULT_MAX_ATTEMPTS } from '../job';
import type { BlobStore } from '../ports/blob-store';
import type { Clock } from '../ports/clock';
import type { JobEvents } from '../ports/job-events';
import type { JobKind } from '../job';
import type { JobQueue } from '../ports/job-queue';
import type { JobStarter } from '../ports/job-starter';
import type { JobStore } from '../ports/job-store';
import type { ModelRegistry } from '../ports/model-registry';
import type { StyleStore } from '../ports/style-store';
import type { TrainingRules } from '../ports/training-rules';

/** Limits the use cases enforce; every one is chosen by the operator through configuration. */
export interface UseCaseLimits {
  /** Largest upload accepted, in bytes. */
  maxUploadBytes: number;
  /** How long an upload target stays usable, in seconds. */
  uploadTtlSeconds: number;
  /** How long a result download URL stays usable, in seconds. */
  downloadTtlSeconds: number;
  /** Most training iterations one job may ask for. */
  maxTrainingSteps: number;
  /** Dataset folders the server offers for training, by name. */
  datasetFolders: readonly string[];
  /** Most QUEUED or RUNNING jobs one owner may hold; more is QUOTA_EXCEEDED. */
  maxActiveJobsPerOwner: number;
  /**
   * Most QUEUED or RUNNING training jobs one owner may hold (on AWS, each becomes at most one SageMaker
   * run, so this also bounds an owner's concurrent SageMaker training jobs).
   */
  maxActiveTrainingJobsPerOwner: number;
  /** Starts a new job is allowed before it fails with RETRIES_EXHAUSTED (the queue's delivery limit). */
  maxAttempts: number;
  /**
   * Most training compute one owner may have queued or running, in FLOPs (each job's FLOPs per
   * iteration × its steps, by the training rules); more is BUDGET_EXCEEDED.
   */
  maxTrainingFlopsPerOwner: number;
  /** Most memory one training iteration may need by the training rules' estimate, in bytes. */
  maxTrainingMemoryBytes: number;
}

/** Conservative defaults, for tests and for the composition root to start from. */
export const DEFAULT_LIMITS: UseCaseLimits = {
  maxUploadBytes: 20 * 1024 * 1024,
  uploadTtlSeconds: 15 * 60,
  downloadTtlSeconds: 60 * 60,
  maxTrainingSteps: 200_000,
  datasetFolders: [],
  maxActiveJobsPerOwner: 50,
  maxActiveTrainingJobsPerOwner: 2,
  maxAttempts: DEFAULT_MAX_ATTEMPTS,
  // 2 PFLOP: the `small` preset's whole 30,000-iteration schedule (1.5 PFLOP), or about 550
  // iterations of `paper`; 8 GiB: `paper` at its own 256 px crops and batch 1 (about 4.7 GiB).
  maxTrainingFlopsPerOwner: 2e15,
  maxTrainingMemoryBytes: 8 * 1024 ** 3,
};

/** Everything a use case may use. */
export interface UseCaseDeps {
  blobs: BlobStore;
  jobs: JobStore;
  /**
   * Where new jobs wait for a worker, unless `starters` names another runner for their kind. Absent
   * where the job store hands new jobs on itself (`enqueued: true`: the AWS job outbox).
   */
  queue?: JobQueue;
  /**
   * Runners of the job kinds that do not go through `queue` (on AWS, TRAIN: the training launcher).
   * @default none: every kind is enqueued
   */
  starters?: Partial<Record<JobKind, JobStarter>>;
  events: JobEvents;
  styles: StyleStore;
  models: ModelRegistry;
  clock: Clock;
  limits: UseCaseLimits;
  /** The trainer's presets, config checks and costs, for training requests. */
  trainingRules: TrainingRules;
}
